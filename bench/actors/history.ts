import { DurableObject } from "cloudflare:workers";
import { integer, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { history } from "../../src/history/index";
import { ActorError, defineActor, type MigrationBundle, SqlActor } from "../../src/index";

// The inventory reserve (one select, then an insert, an update and a log insert in one transaction),
// the workload of the history cost note in DESIGN.md §2, and a 100,000-row table for AS OF.
const SCHEMA = [
  "CREATE TABLE stock (sku TEXT PRIMARY KEY NOT NULL, available INTEGER NOT NULL, reserved INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
  "CREATE TABLE reservations (id INTEGER PRIMARY KEY NOT NULL, order_id TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE TABLE inventory_log (id INTEGER PRIMARY KEY NOT NULL, kind TEXT NOT NULL, order_id TEXT, qty INTEGER NOT NULL, at INTEGER NOT NULL)",
  "CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, qty INTEGER NOT NULL, price REAL NOT NULL)",
];
const migrations: MigrationBundle = {
  journal: { entries: [{ idx: 0, tag: "0000_reserve", when: 0 }] },
  migrations: { m0000: SCHEMA.join("\n--> statement-breakpoint\n") },
};
const schema = {
  items: sqliteTable("items", {
    id: integer("id").primaryKey(),
    name: text("name").notNull(),
    qty: integer("qty").notNull(),
    price: real("price").notNull(),
  }),
};

const SELECT_STOCK = "SELECT available FROM stock WHERE sku = ?";
const INSERT_RESERVATION =
  "INSERT INTO reservations (order_id, qty, status, created_at) VALUES (?, ?, 'held', ?)";
const UPDATE_STOCK =
  "UPDATE stock SET available = available - ?, reserved = reserved + ?, updated_at = ? WHERE sku = ?";
const INSERT_LOG = "INSERT INTO inventory_log (kind, order_id, qty, at) VALUES ('reserve', ?, ?, ?)";

abstract class ReserveBase extends SqlActor<Env, typeof schema> {
  #seq = 0;

  /** `n` reserves, each one transaction. */
  reserveMany(n: number): number {
    if (this.query(SELECT_STOCK, ["sku"]).length === 0)
      this.run("INSERT INTO stock (sku, available, reserved, updated_at) VALUES ('sku', 1000000000, 0, 0)");
    for (let i = 0; i < n; i++) {
      const order = `o${Date.now()}-${this.#seq++}`;
      this.transaction(() => {
        const [row] = this.query<{ available: number }>(SELECT_STOCK, ["sku"]);
        if (row.available < 1) throw new ActorError("INSUFFICIENT_STOCK", "sold out");
        const now = Date.now();
        this.run(INSERT_RESERVATION, [order, 1, now]);
        this.run(UPDATE_STOCK, [1, 1, now, "sku"]);
        this.run(INSERT_LOG, [order, 1, now]);
      });
    }
    return n;
  }

  /** 100,000 items, then (from `changedAt` on) 10% of them updated; returns the time in between. */
  seedItems(rows: number, changed: number): number {
    if (this.query("SELECT 1 FROM items LIMIT 1").length === 0) {
      for (let start = 1; start <= rows; start += 5000)
        this.transaction(() => {
          for (let id = start; id < Math.min(start + 5000, rows + 1); id++)
            this.run("INSERT INTO items (id, name, qty, price) VALUES (?, ?, ?, ?)", [
              id,
              `item ${id}`,
              id % 100,
              id / 10,
            ]);
        });
    }
    const at = Date.now();
    this.transaction(() => {
      for (let k = 0; k < changed; k++) {
        const id = 1 + ((k * 9973) % rows);
        this.run("UPDATE items SET qty = qty + 1, price = price * 2 WHERE id = ?", [id]);
      }
    });
    return at;
  }

  /** count and sum over the table, now or as of a time: SQLite's work alone, no rows materialized. */
  sumItems(asOf?: number): number {
    const sql = "SELECT count(*) AS n, sum(qty) AS s FROM items";
    const [row] =
      asOf === undefined
        ? this.query<{ n: number }>(sql)
        : this.query<{ n: number }>(`${sql} FOR SYSTEM_TIME AS OF ?`, [asOf]);
    return row.n;
  }

  scanItems(asOf?: number): number {
    const rows =
      asOf === undefined
        ? this.query("SELECT * FROM items")
        : this.query("SELECT * FROM items FOR SYSTEM_TIME AS OF ?", [asOf]);
    return rows.length;
  }
}

/** History on every table; the log is append-only (its own history, not captured twice). */
export class HistoryReserve extends ReserveBase {
  static override config = defineActor({
    schema,
    migrations,
    history: history({ tables: "all", appendOnly: { inventory_log: "at" } }),
  });
}

/** The same actor with history off. */
export class PlainReserve extends ReserveBase {
  static override config = defineActor({ schema, migrations });
}

/** A hand-written Durable Object doing the same reserve SQL. */
export class HandReserve extends DurableObject<Env> {
  #seq = 0;
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const s of SCHEMA) ctx.storage.sql.exec(s.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
  }
  reserveMany(n: number): number {
    const sql = this.ctx.storage.sql;
    if (sql.exec(SELECT_STOCK, "sku").toArray().length === 0)
      sql.exec("INSERT INTO stock (sku, available, reserved, updated_at) VALUES ('sku', 1000000000, 0, 0)");
    for (let i = 0; i < n; i++) {
      const order = `o${Date.now()}-${this.#seq++}`;
      this.ctx.storage.transactionSync(() => {
        const row = sql.exec<{ available: number }>(SELECT_STOCK, "sku").one();
        if (row.available < 1) throw new Error("sold out");
        const now = Date.now();
        sql.exec(INSERT_RESERVATION, order, 1, now);
        sql.exec(UPDATE_STOCK, 1, 1, now, "sku");
        sql.exec(INSERT_LOG, order, 1, now);
      });
    }
    return n;
  }
}
