import { ActorError } from "../errors";
import { keyFromParams, keyObject, parseImage, type Row, type RowValue } from "./codec";
import { floorLsn, lastLsn, TX_FACTS, WAL } from "./store";
import { requireTracked, type TableInfo } from "./tables";

export type ChangeOp = "insert" | "update" | "delete";

/** One recorded change. For an update, `after` is the whole new row and `changed` lists what changed. */
export interface Change {
  lsn: number;
  tx: number;
  at: number;
  actor: string | null;
  table: string;
  op: ChangeOp;
  key: Row;
  before: Row | null;
  after: Row | null;
  changed?: string[];
}

export interface ChangesOptions {
  /** First LSN to return (default 1: everything held). Resume with the `nextLsn` of the last page. */
  fromLsn?: number;
  tables?: readonly string[];
  /** At most this many changes (default 1,000, at most 10,000). */
  limit?: number;
}

export interface ChangesPage {
  changes: Change[];
  /** Pass as `fromLsn` to continue exactly where this page ended. */
  nextLsn: number;
  /** The newest LSN written when the page was read. */
  lastLsn: number;
}

const OPS: Record<string, ChangeOp> = { I: "insert", U: "update", D: "delete" };

type WalRow = {
  lsn: number;
  tx: number;
  at: number;
  actor: string | null;
  tbl: string;
  op: string;
  pk: SqlStorageValue;
  before: string | null;
  after: string | null;
};

export function toChange(row: WalRow, info: TableInfo | undefined): Change {
  const before = parseImage(row.before);
  const delta = parseImage(row.after);
  const change: Change = {
    lsn: row.lsn,
    tx: row.tx,
    at: row.at,
    actor: row.actor,
    table: row.tbl,
    op: OPS[row.op],
    key: info ? keyObject(info, row.pk) : { key: row.pk as RowValue },
    before,
    after: row.op === "U" ? { ...before, ...delta } : delta,
  };
  if (row.op === "U") change.changed = Object.keys(delta ?? {});
  return change;
}

const SELECT = `SELECT w.lsn, w.tx, x.at, x.actor, w.tbl, w.op, w.pk, w.before, w.after FROM ${WAL} w ${TX_FACTS}`;

/** The change feed: ordered by LSN, resumable exactly; refuses to skip pruned changes silently. */
export function readChanges(
  sql: SqlStorage,
  tables: ReadonlyMap<string, TableInfo>,
  options: ChangesOptions = {},
): ChangesPage {
  if (typeof options !== "object" || options === null)
    throw new ActorError("VALIDATION_FAILED", "options must be an object");
  const fromLsn = options.fromLsn ?? 1;
  const limit = options.limit ?? 1000;
  if (!Number.isSafeInteger(fromLsn) || fromLsn < 1)
    throw new ActorError("VALIDATION_FAILED", "fromLsn must be a positive integer");
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
    throw new ActorError("VALIDATION_FAILED", "limit must be an integer from 1 to 10,000");
  let filter = "";
  const params: SqlStorageValue[] = [fromLsn];
  if (options.tables !== undefined) {
    if (!Array.isArray(options.tables) || options.tables.length === 0)
      throw new ActorError("VALIDATION_FAILED", "tables must be a non-empty list of tracked tables");
    for (const t of options.tables) requireTracked(tables, t);
    filter = ` AND +w.tbl IN (${options.tables.map(() => "?").join(", ")})`;
    params.push(...options.tables);
  }
  const floor = floorLsn(sql);
  if (fromLsn < floor)
    throw new ActorError("HISTORY_PRUNED", `changes before LSN ${floor} were pruned by retention`, {
      floorLsn: floor,
    });
  const last = lastLsn(sql);
  const rows = sql
    .exec<WalRow>(`${SELECT} WHERE w.lsn >= ?${filter} ORDER BY w.lsn LIMIT ?`, ...params, limit)
    .toArray();
  const changes = rows.map((r) => toChange(r, tables.get(r.tbl)));
  // A short page read everything up to `last`; a full page continues after its last change.
  const nextLsn = rows.length === limit ? rows[rows.length - 1].lsn + 1 : Math.max(fromLsn, last + 1);
  return { changes, nextLsn, lastLsn: last };
}

export interface RowVersion {
  lsn: number;
  tx: number;
  at: number;
  actor: string | null;
  op: ChangeOp;
  /** The row after the change (null after a delete). */
  row: Row | null;
  changed?: string[];
}

/** Every recorded version of one row, oldest first, with when and who. */
export function readRowHistory(
  sql: SqlStorage,
  tables: ReadonlyMap<string, TableInfo>,
  table: string,
  key: unknown,
): RowVersion[] {
  const info = requireTracked(tables, table);
  const walKey = toWalKey(sql, info, key);
  const rows = sql
    .exec<WalRow>(`${SELECT} WHERE w.tbl = ? AND w.pk = ? ORDER BY w.lsn`, table, walKey)
    .toArray();
  return rows.map((r) => {
    const c = toChange(r, info);
    const version: RowVersion = { lsn: c.lsn, tx: c.tx, at: c.at, actor: c.actor, op: c.op, row: c.after };
    if (c.changed) version.changed = c.changed;
    return version;
  });
}

/** A key from a caller (`5`, `{ id: 5 }`, or `[a, b]` / `{ a, b }` for a composite key) as the WAL stores it. */
export function toWalKey(sql: SqlStorage, info: TableInfo, key: unknown): SqlStorageValue {
  let values: unknown[];
  if (Array.isArray(key)) values = key;
  else if (key && typeof key === "object" && !(key instanceof ArrayBuffer) && !ArrayBuffer.isView(key))
    values = info.pk.map((name) => (key as Record<string, unknown>)[name]);
  else values = [key];
  if (values.length !== info.pk.length || values.some((v) => v === undefined || v === null))
    throw new ActorError("VALIDATION_FAILED", `key of ${info.name} needs ${info.pk.join(", ")}`, {
      key: info.pk,
    });
  for (const v of values)
    if (
      !(typeof v === "string" || typeof v === "number" || v instanceof ArrayBuffer || ArrayBuffer.isView(v))
    )
      throw new ActorError("VALIDATION_FAILED", "key values must be strings, numbers or bytes");
  const bound = values.map((v) =>
    ArrayBuffer.isView(v)
      ? (v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer)
      : (v as SqlStorageValue),
  );
  if (info.pk.length === 1) return bound[0];
  return sql.exec(keyFromParams(info), ...bound).one().key;
}
