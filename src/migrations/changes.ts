import type { Fingerprint } from "./guard";
import type { Hold } from "./holds";
import type { Schema, TableShape } from "./schema";

/**
 * A change of a table's shape made by a migration, as the runner saw it happen (by comparing the
 * schema before and after each statement, not by reading the statement's text). History uses these
 * to read its old row images under today's names.
 */
export type SchemaChange =
  | { kind: "renameTable"; from: string; to: string }
  | { kind: "renameColumn"; table: string; from: string; to: string }
  /** `defaultSql`: the column's default as SQLite stores it (SQL text from the schema), or null. */
  | { kind: "addColumn"; table: string; column: string; defaultSql: string | null }
  | { kind: "dropColumn"; table: string; column: string };

/** What follows a table across the statements of one migration. */
export interface Tracked {
  expected: Map<string, Fingerprint>;
  holds: Hold[];
  /** Each table the migration dropped, by name (a rebuild brings the name back): shape and rows expected. */
  dropped: Map<string, { shape: TableShape; rows: number }>;
}

/**
 * Compare the schema before and after one statement: renames (a table keeps its b-tree, a column
 * its position), columns added and dropped, tables dropped and (re)created. Updates `state` so
 * holds and expected fingerprints follow the tables, and returns the changes.
 */
export function trackStatement(pre: Schema, post: Schema, state: Tracked): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const byRoot = new Map([...pre.values()].map((t) => [t.rootpage, t]));
  for (const table of post.values()) {
    // A name present before and after is the same table (a DROP under auto-vacuum may move
    // another table's b-tree, so root pages identify only tables that took a new name).
    const before = pre.get(table.name);
    if (before) {
      changes.push(...columnChanges(before, table, state, true));
      continue;
    }
    const from = byRoot.get(table.rootpage);
    if (from && !post.has(from.name)) {
      renameTable(state, from.name, table.name);
      const replaced = state.dropped.get(table.name);
      if (replaced) {
        // A rebuild: the new table took the dropped one's name; its columns are matched by name.
        // Its keys and references are what the migration's copy wrote; its rows, all the old ones.
        state.dropped.delete(table.name);
        const copied = state.expected.get(table.name);
        if (copied) copied.rows = Math.max(copied.rows, replaced.rows);
        changes.push(...columnChanges(replaced.shape, table, state, false));
      } else {
        changes.push({ kind: "renameTable", from: from.name, to: table.name });
        changes.push(...columnChanges(from, table, state, true));
      }
    }
  }
  const renamedFrom = new Set(
    [...post.values()].filter((t) => !pre.has(t.name)).map((t) => byRoot.get(t.rootpage)?.name),
  );
  for (const table of pre.values())
    if (!post.has(table.name) && !renamedFrom.has(table.name)) {
      state.dropped.set(table.name, { shape: table, rows: state.expected.get(table.name)?.rows ?? 0 });
      state.expected.delete(table.name);
    }
  return changes;
}

function renameTable(state: Tracked, from: string, to: string): void {
  const fp = state.expected.get(from);
  state.expected.delete(from);
  if (fp) state.expected.set(to, fp);
  for (const hold of state.holds) if (hold.child === from) hold.child = to;
}

/** Columns renamed, added or dropped between two shapes of one table. */
function columnChanges(a: TableShape, b: TableShape, state: Tracked, sameTable: boolean): SchemaChange[] {
  const table = b.name;
  const before = a.all.map((c) => c.name);
  const after = b.all.map((c) => c.name);
  const changes: SchemaChange[] = [];
  if (sameTable && before.length === after.length) {
    before.forEach((name, i) => {
      if (name === after[i]) return;
      changes.push({ kind: "renameColumn", table, from: name, to: after[i] });
      renameColumn(state.expected.get(table), name, after[i]);
    });
    return changes;
  }
  for (const col of b.all)
    if (!before.includes(col.name))
      changes.push({ kind: "addColumn", table, column: col.name, defaultSql: col.dflt });
  for (const name of before)
    if (!after.includes(name)) changes.push({ kind: "dropColumn", table, column: name });
  return changes;
}

function renameColumn(fp: Fingerprint | undefined, from: string, to: string): void {
  if (!fp) return;
  fp.pk = fp.pk.map((c) => (c === from ? to : c));
  const sum = fp.sums.get(from);
  if (sum !== undefined) {
    fp.sums.delete(from);
    fp.sums.set(to, sum);
  }
}
