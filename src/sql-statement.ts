import { ActorError } from "./errors";
import { isKeyword, significant, splice, tokenize } from "./sql/tokens";

/**
 * What `Database` needs to know about a statement's text: its verb (so `run()` reads `changes()`
 * only after a statement that can change rows), and where its `?` parameters are (so a bigint can
 * be bound exactly). The fast path is one regex; comments and `WITH` go through the tokenizer.
 */
export type Verb = "insert" | "update" | "delete" | "other";

const LEADING = /^\s*([A-Za-z]+)/;
const VERBS: Record<string, Verb> = {
  INSERT: "insert",
  REPLACE: "insert",
  UPDATE: "update",
  DELETE: "delete",
};

export function verbOf(sql: string): Verb {
  const m = LEADING.exec(sql);
  const word = m?.[1].toUpperCase();
  if (word && word !== "WITH") return VERBS[word] ?? "other";
  // A comment first, or a CTE: the verb is the first of these keywords outside parentheses.
  for (const t of significant(tokenize(sql)))
    if (t.depth === 0 && isKeyword(t, "INSERT", "REPLACE", "UPDATE", "DELETE", "SELECT", "VALUES"))
      return VERBS[t.text.toUpperCase()] ?? "other";
  return "other";
}

/**
 * How `run()` learns `{ changes, lastRowId }` of a statement. A single INSERT … VALUES gets a
 * RETURNING clause of its own (`_rowid_ AS r`): its rows are the rows it
 * changed (RETURNING leaves out rows of triggers and foreign-key actions, as `changes()` does), and
 * the last one's rowid is `last_insert_rowid()`, so no second statement is needed. Anything else
 * that writes (an UPDATE, a DELETE, an INSERT … SELECT, a RETURNING of its own, several statements) asks
 * `changes()` and `last_insert_rowid()` after it; a statement that writes nothing answers 0.
 * Pure: it depends on the text alone, decided once per text (Database caches it). Whether the
 * rewritten text prepares (a WITHOUT ROWID table has no `_rowid_`) is checked on first use.
 */
export type RunPlan =
  | { kind: "none" }
  | { kind: "ask"; insert: boolean }
  | { kind: "returning"; sql: string; insert: boolean; checked: boolean };

export function runPlanOf(sql: string): RunPlan {
  const verb = verbOf(sql);
  if (verb === "other") return { kind: "none" };
  const insert = verb === "insert";
  // An UPDATE or DELETE may change any number of rows: reading them all back would cost memory
  // and time per row where changes() is constant, so only an INSERT … VALUES (bounded by its own
  // text) gets a RETURNING.
  if (!insert) return { kind: "ask", insert };
  const tokens = significant(tokenize(sql));
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].text === ";") end--;
  let intoSeen = false;
  for (let i = 0; i < end; i++) {
    const t = tokens[i];
    if (t.depth > 0) continue;
    if (t.text === ";" || isKeyword(t, "RETURNING")) return { kind: "ask", insert };
    if (isKeyword(t, "INTO")) intoSeen = true;
    // INSERT … SELECT: as many rows as the SELECT yields (a CTE's SELECT comes before INTO).
    if (intoSeen && isKeyword(t, "SELECT")) return { kind: "ask", insert };
  }
  if (end === 0) return { kind: "ask", insert };
  const cut = sql.slice(0, tokens[end - 1].end);
  return {
    kind: "returning",
    sql: `${cut} RETURNING _rowid_ AS r`,
    insert,
    checked: false,
  };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * DO SQLite binds every JS number as a REAL and refuses bigints. A bigint is bound as its decimal
 * text with its `?` turned into `CAST(? AS INTEGER)`, which SQLite converts exactly; one outside
 * the 64-bit range is refused. Only statements that bind a bigint pay for this.
 */
export function bindBigints(sql: string, params: unknown[]): { sql: string; params: unknown[] } {
  const edits: { start: number; end: number; text: string }[] = [];
  const out = [...params];
  let index = 0;
  for (const t of tokenize(sql)) {
    if (t.kind !== "param") continue;
    if (t.text !== "?")
      throw new ActorError("VALIDATION_FAILED", "bigint parameters need plain ? placeholders");
    const value = params[index];
    if (typeof value === "bigint") {
      if (value < INT64_MIN || value > INT64_MAX)
        throw new ActorError("VALIDATION_FAILED", "a bigint parameter must fit in a signed 64-bit integer");
      edits.push({ start: t.start, end: t.end, text: "CAST(? AS INTEGER)" });
      out[index] = value.toString();
    }
    index++;
  }
  return { sql: splice(sql, edits), params: out };
}
