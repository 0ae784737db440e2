import { identName, isKeyword, significant, tokenize } from "../sql/tokens";
import type { Tracking } from "./tracking";
import { triggerName } from "./triggers";

/**
 * What a statement's text says about the table it writes: a single INSERT/REPLACE/UPDATE/DELETE
 * names its target (`target`, lower case); anything else (a CTE first, several statements, another
 * schema, DDL) has none and may write anywhere. `ddl`: the text may change the schema.
 */
export interface WriteTarget {
  target: string | null;
  ddl: boolean;
}

const NONE: WriteTarget = { target: null, ddl: false };
const DDL: WriteTarget = { target: null, ddl: true };

/** Pure: depends on the text alone (history caches it per text). */
export function writeTargetOf(sql: string): WriteTarget {
  const tokens = significant(tokenize(sql));
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].text === ";") end--;
  const first = tokens[0];
  if (isKeyword(first, "CREATE", "DROP", "ALTER")) return DDL;
  for (let i = 0; i < end; i++) if (tokens[i].depth === 0 && tokens[i].text === ";") return DDL;
  let i = 1;
  if (isKeyword(first, "INSERT", "UPDATE") && isKeyword(tokens[1], "OR")) i = 3;
  if (isKeyword(first, "INSERT", "REPLACE")) {
    if (!isKeyword(tokens[i], "INTO")) return NONE;
    i++;
  } else if (isKeyword(first, "DELETE")) {
    if (!isKeyword(tokens[i], "FROM")) return NONE;
    i++;
  } else if (!isKeyword(first, "UPDATE")) return NONE;
  let name = identName(tokens[i]);
  if (name !== undefined && tokens[i + 1]?.text === ".") {
    if (name.toLowerCase() !== "main") return NONE;
    name = identName(tokens[i + 2]);
  }
  return name === undefined ? NONE : { target: name.toLowerCase(), ddl: false };
}

/**
 * Whether a trigger writes quiet tables alone: every statement of its body a single write (by
 * `writeTargetOf`) whose target is in `quiet`. Anything else (a SELECT, a CTE first, a body that
 * cannot be read) answers no.
 */
function triggerWritesOnly(triggerSql: string, quiet: Set<string>): boolean {
  const tokens = significant(tokenize(triggerSql));
  const begin = tokens.findIndex((t) => t.depth === 0 && isKeyword(t, "BEGIN"));
  let end = tokens.length - 1;
  while (end > 0 && tokens[end].text === ";") end--;
  if (begin < 0 || !isKeyword(tokens[end], "END")) return false;
  let from = begin + 1;
  for (let i = begin + 1; i <= end; i++) {
    if (i < end && !(tokens[i].depth === 0 && tokens[i].text === ";")) continue;
    if (i > from) {
      const statement = triggerSql.slice(tokens[from].start, tokens[i - 1].end);
      const { target, ddl } = writeTargetOf(statement);
      if (ddl || target === null || !quiet.has(target)) return false;
    }
    from = i + 1;
  }
  return true;
}

/**
 * Tables a write can change without capturing anything (lower-case names): not captured, no
 * trigger but history's own append-only guards (which only refuse) and triggers whose every
 * statement writes a quiet table (found to a fixed point: a chain of such triggers is quiet, one
 * that reaches a captured table is not), and no foreign key pointing at them (an ON
 * DELETE/UPDATE action could reach a captured table). Read from the schema once per install and
 * again after DDL through the actor.
 */
export function quietTables(sql: SqlStorage, tracking: Tracking): Set<string> {
  const tables = sql
    // The runtime's own tables (`_cf_…`) are out of reach (SQLITE_AUTH), as are SQLite's.
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .toArray()
    .map((t) => t.name);
  const quiet = new Set(tables.map((t) => t.toLowerCase()));
  for (const name of tracking.captured.keys()) quiet.delete(name.toLowerCase());
  const guards = new Set(
    [...tracking.appendOnly.keys()].flatMap((t) => [triggerName(t, "a"), triggerName(t, "ad")]),
  );
  for (const t of tables)
    for (const fk of sql
      .exec<{ table: string }>('SELECT "table" FROM pragma_foreign_key_list(?)', t)
      .toArray())
      quiet.delete(fk.table.toLowerCase());
  const triggers = sql
    .exec<{ name: string; table: string; sql: string | null }>(
      "SELECT name, tbl_name AS \"table\", sql FROM sqlite_master WHERE type = 'trigger'",
    )
    .toArray()
    .filter((t) => !guards.has(t.name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of triggers) {
      const table = t.table.toLowerCase();
      if (quiet.has(table) && !(t.sql !== null && triggerWritesOnly(t.sql, quiet))) {
        quiet.delete(table);
        changed = true;
      }
    }
  }
  return quiet;
}
