import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { columnCollations } from "../sql/collations";
import { tableSql } from "../sql/tables";
import type { ResolvedTiering } from "./config";
import { RawText } from "./parquet-write";
import type { ArchiveStore } from "./r2-store";
import { JOBS } from "./tables";

/** What the tiering parts share: storage, config, the actor's name and its R2 stores. */
export interface TieringContext {
  storage: DurableObjectStorage;
  sql: SqlStorage;
  config: ResolvedTiering;
  /** Used in keys; percent-encoded. */
  actorName: string;
  /** The store of a binding (default: the configured one); UNKNOWN_BUCKET when there is none. */
  store(binding?: string): ArchiveStore;
  /** Resolve an `r2://<name>/` name (binding or configured alias) to its binding. */
  bindingOf(name: string): string;
  /** The actor's own parameterised query (binding rules of `Database.query`). */
  query<T>(sql: string, params?: readonly unknown[]): T[];
  /** One transaction of the actor (recorded by history as its own) for raw writes on `sql`. */
  transaction<T>(fn: () => T): T;
}

/** Keep [A-Za-z0-9._-]; percent-encode the rest, so names never clash with `/`, `*` or quotes in keys. */
export function keySegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, (ch) =>
    [...new TextEncoder().encode(ch)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
      .join(""),
  );
}

export interface TableColumn {
  name: string;
  /** The declared type, as SQLite reports it. */
  type: string;
  /** The declared collation (BINARY when none). */
  collation: string;
  /** Generated columns are read but never inserted. */
  generated: boolean;
}

/** Columns of a table (hidden columns of virtual tables left out), with their declared types and collations. */
export function tableColumns(sql: SqlStorage, table: string): TableColumn[] {
  const columns = sql
    .exec<{ name: string; type: string; hidden: number }>(
      "SELECT name, type, hidden FROM pragma_table_xinfo(?) WHERE hidden != 1 ORDER BY cid",
      table,
    )
    .toArray();
  if (columns.length === 0) return [];
  const collations = columnCollations(tableSql(sql, table) ?? "");
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    collation: collations.get(c.name.toLowerCase()) ?? "BINARY",
    generated: c.hidden === 2 || c.hidden === 3,
  }));
}

export function columnList(columns: { name: string }[]): string {
  return columns.map((c) => quoteIdent(c.name)).join(", ");
}

/** Job bookkeeping: keys uploaded but not yet committed, so a later step can remove them. */
export function pendingKeys(sql: SqlStorage, jobId: string): { bucket: string; key: string }[] {
  const row = sql
    .exec<{ p: string }>(`SELECT pending_keys AS p FROM ${JOBS} WHERE id = ?`, jobId)
    .toArray()[0];
  return row ? JSON.parse(row.p) : [];
}

export function setPendingKeys(
  sql: SqlStorage,
  jobId: string,
  keys: { bucket: string; key: string }[],
): void {
  sql.exec(
    `UPDATE ${JOBS} SET pending_keys = ?, updated_at = ? WHERE id = ?`,
    JSON.stringify(keys),
    Date.now(),
    jobId,
  );
}

export function equalValues(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof RawText && b instanceof RawText) return a.hex === b.hex;
  if (a instanceof ArrayBuffer && b instanceof ArrayBuffer) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a);
    const y = new Uint8Array(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  return false;
}

export function notFound(table: string): ActorError {
  return new ActorError("TABLE_NOT_FOUND", `no table named ${table}`, { table });
}
