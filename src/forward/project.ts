import { ActorError } from "../errors";
import type { Row } from "../history/codec";
import type { Change } from "../history/feed";
import type { TableInfo } from "../history/tables";
import type { ForwardChange, ResolvedForward } from "./types";

/**
 * The columns each table of a forward exports, checked against the schema on every wake: every
 * table must be captured by history, every declared column must exist, and the primary key must be
 * among them (a receiver needs the key; a key that must not leave the actor means that table must not).
 */
export function exportedColumns(
  forward: ResolvedForward,
  captured: ReadonlyMap<string, TableInfo>,
): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const table of forward.tables) {
    const info = captured.get(table);
    if (!info)
      throw new ActorError(
        "INVALID_CONFIG",
        `forward ${forward.name}: table ${table} is not captured by history (defineActor({ history: { tables } }); append-only tables are not captured)`,
      );
    const names = new Set(info.columns.map((c) => c.name));
    const declared = forward.columns.get(table) ?? [...names];
    for (const column of declared)
      if (!names.has(column))
        throw new ActorError("INVALID_CONFIG", `forward ${forward.name}: ${table} has no column ${column}`);
    for (const column of info.pk)
      if (!declared.includes(column))
        throw new ActorError(
          "INVALID_CONFIG",
          `forward ${forward.name}: columns of ${table} must include its primary key ${info.pk.join(", ")}`,
        );
    out.set(table, Object.freeze([...declared]));
  }
  return out;
}

/** A new row holding exactly the allowed columns present in `row` (built from the list, never copied whole). */
function pick(row: Row | null, columns: readonly string[]): Row | null {
  if (row === null) return null;
  const out: Row = {};
  for (const column of columns) if (Object.hasOwn(row, column)) out[column] = row[column];
  return out;
}

/**
 * The message form of one change, built column by column from the allowlist; null when the
 * change touches none of the exported columns (an update of undeclared columns only).
 */
export function project(change: Change, columns: readonly string[]): ForwardChange | null {
  const out: ForwardChange = {
    lsn: change.lsn,
    tx: change.tx,
    at: change.at,
    table: change.table,
    op: change.op,
    key: pick(change.key, columns) as Row,
    before: pick(change.before, columns),
    after: pick(change.after, columns),
  };
  if (change.op === "update") {
    const changed = (change.changed ?? []).filter((c) => columns.includes(c));
    if (changed.length === 0) return null;
    out.changed = changed;
  }
  return out;
}
