import { ActorError } from "../errors";

/**
 * `backup.json`: written last, so a backup exists only once every part is in R2. Checked by hand
 * rather than with zod: SqlActor always bundles tiering, and zod would then be in every actor's bundle.
 */
export interface BackupManifest {
  format: 1;
  actor: string;
  createdAt: number;
  /** Newest applied migration, or null. */
  schemaVersion: string | null;
  /** Highest LSN of the history WAL at the snapshot, or null without history. */
  walLsn: number | null;
  /** sqlite_master entries (tables, indexes, triggers, views) to recreate, in creation order. */
  objects: { type: string; name: string; tbl: string; sql: string }[];
  tables: {
    name: string;
    /** The snapshot kept rowids (first column `_dosql_rowid`). */
    rowid: boolean;
    columns: { name: string; type: string }[];
    rows: number;
    parts: { key: string; rows: number; size: number }[];
  }[];
  /** AUTOINCREMENT counters; a counter beyond 2^53 as its digits (a JSON number would round it). */
  sequences: { name: string; seq: number | string }[];
}

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === "string";
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const orNull =
  (c: Check): Check =>
  (v) =>
    v === null || c(v);
const list =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c);
const shape =
  (fields: Record<string, Check>): Check =>
  (v) =>
    !!v &&
    typeof v === "object" &&
    Object.entries(fields).every(([k, c]) => c((v as Record<string, unknown>)[k]));

const isManifest = shape({
  format: (v) => v === 1,
  actor: str,
  createdAt: num,
  schemaVersion: orNull(str),
  walLsn: orNull(num),
  objects: list(shape({ type: str, name: str, tbl: str, sql: str })),
  tables: list(
    shape({
      name: str,
      rowid: (v) => typeof v === "boolean",
      columns: list(shape({ name: str, type: str })),
      rows: num,
      parts: list(shape({ key: str, rows: num, size: num })),
    }),
  ),
  sequences: list(
    shape({ name: str, seq: (v) => num(v) || (typeof v === "string" && /^-?\d{1,19}$/.test(v)) }),
  ),
});

export function parseBackupManifest(text: string, key: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ActorError("BACKUP_CORRUPT", `${key} is not JSON`, { key });
  }
  if (!isManifest(json)) throw new ActorError("BACKUP_CORRUPT", `${key} is not a backup manifest`, { key });
  return json as BackupManifest;
}
