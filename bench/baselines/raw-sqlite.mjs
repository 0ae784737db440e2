// The floor: InventorySKU's reserve statements on raw SQLite in Node (`node:sqlite`), in memory,
// one transaction with a savepoint per operation (as each actor call is its own transaction).
// Same tables (the actor's drizzle-kit migrations, all of them). The SQL is the reserve's full path
// (snapshot select, insert, update, log insert); since issue 13 the actor's common reserve takes a
// one-UPDATE fast path, which this floor does not mirror yet: the ratio overstates the gap.
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

const dir = new URL("../../migrations/inventory-sku/", import.meta.url);
const ddl = readdirSync(dir)
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .flatMap((f) => readFileSync(new URL(f, dir), "utf8").split("--> statement-breakpoint"));

const SNAPSHOT = `SELECT i.available, i.reserved, i.sold, i.product_name AS productName,
  r.quantity AS rQuantity, r.status AS rStatus, r.expires_at AS rExpiresAt
  FROM inventory i LEFT JOIN reservations r ON r.id = ?`;
const CHANGE_FIGURES = `UPDATE inventory SET available = available + ?, reserved = reserved + ?,
  sold = sold + ?, restocked = restocked + ?, updated_at = ?`;
const LOG = `INSERT INTO inventory_log (operation, quantity, reference_id, available_before, available_after,
  reserved_before, reserved_after, sold_before, sold_after, reason, timestamp)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_RESERVATION = `INSERT INTO reservations (id, quantity, status, created_at, expires_at)
  VALUES (?, ?, 'PENDING', ?, ?)`;

/** Restock `n`, then `n` reserves of 1, each in its own savepoint; answers the elapsed ms. */
export function rawReserves(n, prefix) {
  const db = new DatabaseSync(":memory:");
  for (const statement of ddl) if (statement.trim()) db.exec(statement);
  const snapshot = db.prepare(SNAPSHOT);
  const change = db.prepare(CHANGE_FIGURES);
  const log = db.prepare(LOG);
  const insert = db.prepare(INSERT_RESERVATION);
  const t0 = performance.now();
  db.exec("BEGIN");
  const at = new Date().toISOString();
  db.prepare(
    "INSERT INTO inventory (sku, product_name, available, reserved, sold, restocked, updated_at) VALUES (?, ?, 0, 0, 0, 0, ?)",
  ).run("raw", "raw", at);
  change.run(n, 0, 0, n, at);
  log.run("RESTOCK", n, null, 0, n, 0, 0, 0, 0, null, at);
  for (let i = 0; i < n; i++) {
    db.exec("SAVEPOINT op");
    const orderId = `${prefix}-${i}`;
    const row = snapshot.get(orderId);
    if (!row || row.rStatus !== null || row.available < 1) throw new Error("raw reserve refused");
    const now = Date.now();
    const stamp = new Date(now).toISOString();
    insert.run(orderId, 1, stamp, new Date(now + 15 * 60_000).toISOString());
    change.run(-1, 1, 0, 0, stamp);
    log.run(
      "RESERVE",
      1,
      orderId,
      row.available,
      row.available - 1,
      row.reserved,
      row.reserved + 1,
      row.sold,
      row.sold,
      null,
      stamp,
    );
    db.exec("RELEASE op");
  }
  db.exec("COMMIT");
  const ms = performance.now() - t0;
  db.close();
  return ms;
}
