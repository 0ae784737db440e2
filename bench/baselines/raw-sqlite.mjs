// The floor: InventorySKU's reserve statements on raw SQLite in Node (`node:sqlite`), in memory,
// one transaction with a savepoint per operation (as each actor call is its own transaction).
// Same tables (the actor's drizzle-kit migrations, all of them). The SQL is the reserve's common
// path as actors/inventory-sku/inventory-sku.ts runs it since issue 13: the one-UPDATE hold
// (HOLD ... RETURNING), the reservation insert and the log insert (LOG_HOLD): the actor's own
// strings, imported from actors/inventory-sku/reserve-sql.ts.
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import {
  CHANGE_FIGURES,
  CREATE_SKU,
  HOLD,
  INSERT_RESERVATION,
  LOG,
  LOG_HOLD,
} from "../../actors/inventory-sku/reserve-sql.ts";

const dir = new URL("../../migrations/inventory-sku/", import.meta.url);
const ddl = readdirSync(dir)
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .flatMap((f) => readFileSync(new URL(f, dir), "utf8").split("--> statement-breakpoint"));

/** Restock `n`, then `n` reserves of 1, each in its own savepoint; answers the elapsed ms. */
export function rawReserves(n, prefix) {
  const db = new DatabaseSync(":memory:");
  for (const statement of ddl) if (statement.trim()) db.exec(statement);
  const hold = db.prepare(HOLD);
  const change = db.prepare(CHANGE_FIGURES);
  const log = db.prepare(LOG);
  const logHold = db.prepare(LOG_HOLD);
  const insert = db.prepare(INSERT_RESERVATION);
  const t0 = performance.now();
  db.exec("BEGIN");
  const at = new Date().toISOString();
  db.prepare(CREATE_SKU).run("raw", "raw", at);
  change.run(n, 0, 0, n, at);
  log.run("RESTOCK", n, null, 0, n, 0, 0, 0, 0, null, at);
  for (let i = 0; i < n; i++) {
    db.exec("SAVEPOINT op");
    const orderId = `${prefix}-${i}`;
    const now = Date.now();
    const stamp = new Date(now).toISOString();
    const held = hold.get(1, stamp, orderId);
    if (!held) throw new Error("raw reserve refused");
    insert.run(orderId, 1, stamp, new Date(now + 15 * 60_000).toISOString(), null);
    logHold.run(1, orderId, stamp);
    db.exec("RELEASE op");
  }
  db.exec("COMMIT");
  const ms = performance.now() - t0;
  db.close();
  return ms;
}
