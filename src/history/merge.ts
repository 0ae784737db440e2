import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { keyId, type RowTarget } from "./apply";
import { type ArchivedRow, archivedConflict, archivedSince } from "./archived";
import {
  keyMatch,
  keyObject,
  parseImage,
  type Row,
  rowImage,
  sameRow,
  type WalKey,
  walKey,
  walKeyColumns,
} from "./codec";
import { floorLsn, lastLsn, WAL } from "./store";
import type { TableInfo } from "./tables";

/**
 * merge(branch): a three-way merge by primary key. The branch reports every key it changed since the
 * last merge (or the fork) with its base (the row before its first change since then) and its
 * current row ("theirs"); this actor compares each with its own current row ("ours"):
 *   theirs = ours  -> nothing to do          ours = base -> take theirs
 *   otherwise      -> conflict (both sides changed the row differently)
 */
export type ConflictPolicy = "fail" | "ours" | "theirs";

export interface MergeSourceRow {
  table: string;
  /** A bigint for an integer key beyond 2^53 (DO RPC carries bigints exactly). */
  key: WalKey;
  base: string | null;
  theirs: string | null;
}
export interface MergeSource {
  /** The branch's newest LSN covered: the next merge starts after it. */
  upTo: number;
  rows: MergeSourceRow[];
}

export interface MergeConflict {
  table: string;
  key: Row;
  base: Row | null;
  ours: Row | null;
  theirs: Row | null;
  /**
   * True for a row the merge did not target that a foreign key would change (ON DELETE CASCADE or
   * SET NULL of a row written here since the fork): `ours` is the row, `theirs` what it would become.
   */
  cascade?: boolean;
  /**
   * True for a row the merge would make its own ancestor through a foreign key to its own table
   * (each side a tree, both together a loop): `theirs` is the row the merge would write. Such a
   * conflict stops the merge under every policy.
   */
  cycle?: boolean;
}

export const MAX_MERGE_ROWS = 50_000;

/** The current row of `key` as a JSON image (same encoding as the WAL), or null. */
export function currentImage(sql: SqlStorage, table: TableInfo, key: WalKey): string | null {
  const match = keyMatch(table);
  const row = sql
    .exec<{ img: string }>(
      `SELECT ${rowImage(quoteIdent(table.name), table.columns)} AS img FROM ${quoteIdent(table.name)} WHERE ${match.sql}`,
      ...match.bind(key),
    )
    .toArray()[0];
  return row ? row.img : null;
}

/** Branch side: the keys changed since `fromLsn`, with base and current rows. */
export function mergeSource(
  sql: SqlStorage,
  captured: ReadonlyMap<string, TableInfo>,
  fromLsn: number,
): MergeSource {
  if (!Number.isSafeInteger(fromLsn) || fromLsn < 1)
    throw new ActorError("VALIDATION_FAILED", "fromLsn must be a positive integer");
  if (fromLsn < floorLsn(sql))
    throw new ActorError("HISTORY_PRUNED", "the branch pruned changes its parent has not merged yet", {
      fromLsn,
    });
  const upTo = lastLsn(sql);
  const rows: MergeSourceRow[] = [];
  for (const table of captured.values()) {
    const changed = sql
      .exec<{ pk: SqlStorageValue; pk_digits: string | null; before: string | null }>(
        `SELECT ${walKeyColumns()}, before, min(lsn) FROM ${WAL} WHERE lsn BETWEEN ? AND ? AND +tbl = ? GROUP BY pk`,
        fromLsn,
        upTo,
        table.name,
      )
      .toArray();
    if (rows.length + changed.length > MAX_MERGE_ROWS)
      throw new ActorError("MERGE_TOO_LARGE", `a merge carries at most ${MAX_MERGE_ROWS} changed rows`);
    // A row this branch's archive moved to R2 still holds its last values there: the archive's
    // delete is not a change to carry (it deleted the parent's row, which lives on nowhere else).
    const archived = archivedSince(sql, table, fromLsn, upTo);
    for (const c of changed) {
      const key = walKey(c);
      let theirs = currentImage(sql, table, key);
      const moved = archived.size ? archived.get(keyId(table.name, key)) : undefined;
      if (theirs === null && moved?.last) theirs = moved.image;
      rows.push({ table: table.name, key, base: c.before, theirs });
    }
  }
  return { upTo, rows };
}

/** This side: what to write and what conflicts, under `policy`. */
export function planMerge(
  sql: SqlStorage,
  captured: ReadonlyMap<string, TableInfo>,
  source: MergeSource,
  policy: ConflictPolicy,
): { targets: RowTarget[]; conflicts: MergeConflict[] } {
  const targets: RowTarget[] = [];
  const conflicts: MergeConflict[] = [];
  // Rows this actor's archive moved to R2 (and not written since): "ours" is the archived row, and
  // taking theirs is refused with ARCHIVED, since the archive cannot be rewritten: written back hot
  // the row would be read twice, and a delete would leave it in the archive.
  const archivedOf = new Map<string, Map<string, ArchivedRow>>();
  const refused: { table: TableInfo; key: WalKey }[] = [];
  for (const r of source.rows) {
    const table = captured.get(r.table);
    if (!table)
      throw new ActorError(
        "BRANCH_SCHEMA_MISMATCH",
        `the branch changed ${r.table}, which this actor does not track`,
      );
    let ours = currentImage(sql, table, r.key);
    let moved = false;
    if (ours === null) {
      let archived = archivedOf.get(table.name);
      if (!archived) {
        archived = archivedSince(sql, table, 1);
        archivedOf.set(table.name, archived);
      }
      const row = archived.size ? archived.get(keyId(table.name, r.key)) : undefined;
      if (row?.last) {
        ours = row.image;
        moved = true;
      }
    }
    if (sameRow(ours, r.theirs)) continue;
    if (sameRow(ours, r.base) || (moved && policy === "theirs")) {
      if (moved) refused.push({ table, key: r.key });
      else targets.push({ table, key: r.key, image: r.theirs });
      continue;
    }
    conflicts.push({
      table: r.table,
      key: keyObject(table, r.key),
      base: parseImage(r.base),
      ours: parseImage(ours),
      theirs: parseImage(r.theirs),
    });
    if (policy === "theirs") targets.push({ table, key: r.key, image: r.theirs });
  }
  if (refused.length) throw archivedConflict("cannot merge", refused);
  return { targets, conflicts };
}
