/**
 * The WAL: one row per change. An update keeps the full row before and only the changed columns
 * after; an insert keeps the row after, a delete the row before. `lsn` is the rowid: monotonic,
 * never reused (pruning keeps the newest transaction). A transaction's id is the LSN of its first
 * change, and readers take the per-transaction facts from that first row: commit time `at` (ms,
 * never decreasing) and `actor`. Every row of a transaction also carries its `at`, and `mark` -1
 * as it is written: while the newest row has mark -1 its transaction is open and the next change
 * joins it (the close clears the newest row's mark), so a change reads one row to know its
 * transaction. No other row is written per transaction, and there is no index to maintain on the
 * write path unless `history.keyIndex` asks for one.
 */
export const WAL = "_dosql_wal";
export const KEY_INDEX = "_dosql_wal_key";
export const TRACKED = "_dosql_history_tables";
export const STATE = "_dosql_history_state";
export const SUBSCRIBERS = "_dosql_subscribers";
export const BRANCHES = "_dosql_branches";
export const TRIGGER_PREFIX = "_dosql_h_";

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${WAL} (lsn INTEGER PRIMARY KEY, tx INTEGER NOT NULL, at INTEGER, actor TEXT, mark INTEGER, tbl TEXT NOT NULL, op TEXT NOT NULL, pk, before TEXT, after TEXT)`,
  `CREATE TABLE IF NOT EXISTS ${TRACKED} (tbl TEXT PRIMARY KEY, sig TEXT NOT NULL, since_at INTEGER NOT NULL, since_lsn INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${STATE} (key TEXT PRIMARY KEY, value)`,
  `CREATE TABLE IF NOT EXISTS ${SUBSCRIBERS} (id TEXT PRIMARY KEY, acked INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${BRANCHES} (name TEXT PRIMARY KEY, fork_lsn INTEGER NOT NULL, created_at INTEGER NOT NULL, merged_lsn INTEGER NOT NULL, merged_at INTEGER)`,
];

export function createHistoryTables(sql: SqlStorage, keyIndex: boolean): void {
  for (const statement of DDL) sql.exec(statement);
  sql.exec(
    keyIndex
      ? `CREATE INDEX IF NOT EXISTS ${KEY_INDEX} ON ${WAL} (tbl, pk)`
      : `DROP INDEX IF EXISTS ${KEY_INDEX}`,
  );
}

/** The first row of the newest transaction (its id, time and whether it is open). */
export const NEWEST_TX = `(SELECT tx FROM ${WAL} WHERE lsn = (SELECT max(lsn) FROM ${WAL}))`;

/** Join to read a change's transaction facts: `FROM wal w JOIN wal x ON x.lsn = w.tx`. */
export const TX_FACTS = `JOIN ${WAL} x ON x.lsn = w.tx`;

/** The newest LSN written (0 when the WAL is empty). */
export function lastLsn(sql: SqlStorage): number {
  return Number(sql.exec(`SELECT coalesce(max(lsn), 0) AS l FROM ${WAL}`).one().l);
}

export function readState(sql: SqlStorage, key: string): SqlStorageValue | undefined {
  const rows = sql.exec(`SELECT value FROM ${STATE} WHERE key = ?`, key).toArray();
  return rows.length ? rows[0].value : undefined;
}

export function writeState(sql: SqlStorage, key: string, value: SqlStorageValue): void {
  sql.exec(
    `INSERT INTO ${STATE} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    key,
    value,
  );
}

/** First LSN still held: everything below was pruned. */
export function floorLsn(sql: SqlStorage): number {
  return Number(readState(sql, "floor_lsn") ?? 1);
}
