/**
 * The history tables. One row per transaction (time, actor) and one row per change; an update
 * keeps the full row before and only the changed columns after, inserts keep the row after, deletes
 * the row before. `lsn` is the WAL's rowid: monotonic, never reused (pruning keeps the newest
 * transaction). `_dosql_tx.lsn0` is the first LSN of the transaction, so a time maps to an LSN.
 * `mark` is -1 while the transaction is open (its changes join it) and NULL once closed.
 */
export const TX = "_dosql_tx";
export const WAL = "_dosql_wal";
export const TRACKED = "_dosql_history_tables";
export const STATE = "_dosql_history_state";
export const SUBSCRIBERS = "_dosql_subscribers";
export const BRANCHES = "_dosql_branches";
export const TRIGGER_PREFIX = "_dosql_h_";

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${TX} (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, lsn0 INTEGER NOT NULL, actor TEXT, mark INTEGER)`,
  `CREATE TABLE IF NOT EXISTS ${WAL} (lsn INTEGER PRIMARY KEY, tx INTEGER NOT NULL, tbl TEXT NOT NULL, op TEXT NOT NULL, pk, before TEXT, after TEXT)`,
  `CREATE INDEX IF NOT EXISTS ${WAL}_key ON ${WAL} (tbl, pk)`,
  `CREATE TABLE IF NOT EXISTS ${TRACKED} (tbl TEXT PRIMARY KEY, sig TEXT NOT NULL, since_at INTEGER NOT NULL, since_lsn INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${STATE} (key TEXT PRIMARY KEY, value)`,
  `CREATE TABLE IF NOT EXISTS ${SUBSCRIBERS} (id TEXT PRIMARY KEY, acked INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${BRANCHES} (name TEXT PRIMARY KEY, fork_lsn INTEGER NOT NULL, created_at INTEGER NOT NULL, merged_lsn INTEGER NOT NULL, merged_at INTEGER)`,
];

export function createHistoryTables(sql: SqlStorage): void {
  for (const statement of DDL) sql.exec(statement);
}

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
