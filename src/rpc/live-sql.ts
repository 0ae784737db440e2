import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { decodeValue, sqlString } from "../history/codec";
import { WAL } from "../history/store";
import type { TableInfo } from "../history/tables";
import { identName, isKeyword, significant, type Token, tokenize } from "../sql/tokens";

/**
 * A live query, checked once per SQL text: one read-only SELECT of one table under history, with
 * `?` parameters, no aggregate and no LIMIT (its result must be kept up to date row by row), that
 * selects the table's primary key (rows are keyed by it).
 *
 * Changes are computed from the WAL: the same SELECT runs over a CTE that shadows the table with
 * the newest image of each row changed in an LSN range. Rows it returns were added or changed;
 * changed keys it does not return have left the result (deleted, or no longer matching).
 */
export interface LiveQuery {
  sql: string;
  table: TableInfo;
  /** The SELECT over the newest image of the rows changed in a range: binds (afterLsn, upToLsn, table), then the params. */
  afterSql: string;
  /** The same over the image each changed row had before the range (which rows matched then). */
  beforeSql: string;
}

export const MAX_LIVE_SQL = 2000;
export const MAX_LIVE_PARAMS = 32;

/** VDBE opcodes of results that cannot be maintained row by row (aggregates, LIMIT/OFFSET) or of writes. */
const REFUSED_OPS = new Set([
  "AggStep",
  "AggStep1",
  "AggFinal",
  "AggValue",
  "AggInverse",
  "Count",
  "DecrJumpZero",
  "OffsetLimit",
  "OpenWrite",
  "Insert",
  "Delete",
  "IdxInsert",
  "IdxDelete",
  "VUpdate",
]);

function unsupported(message: string): ActorError {
  return new ActorError("LIVE_QUERY_UNSUPPORTED", message);
}

export type LiveParam = string | number | boolean | null;

export function checkParams(params: unknown): LiveParam[] {
  if (params === undefined) return [];
  if (!Array.isArray(params) || params.length > MAX_LIVE_PARAMS)
    throw new ActorError("VALIDATION_FAILED", `params: a list of at most ${MAX_LIVE_PARAMS} values`);
  for (const p of params)
    if (
      !(p === null || ["string", "number", "boolean"].includes(typeof p)) ||
      (typeof p === "string" && p.length > 1024)
    )
      throw new ActorError(
        "VALIDATION_FAILED",
        "params: strings (up to 1,024 characters), numbers, booleans or null",
      );
  return params as LiveParam[];
}

/** The statement as one SELECT with `?` parameters only (a second statement would run on exec). */
function singleSelect(sql: unknown, paramCount: number): string {
  if (typeof sql !== "string" || sql.length === 0 || sql.length > MAX_LIVE_SQL)
    throw new ActorError("VALIDATION_FAILED", `sql: a SELECT of at most ${MAX_LIVE_SQL} characters`);
  const tokens = tokenize(sql).filter((t) => t.kind !== "space" && t.kind !== "comment");
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].text === ";") end--;
  const body = tokens.slice(0, end);
  if (body.length === 0 || body[0].kind !== "word" || body[0].text.toUpperCase() !== "SELECT")
    throw unsupported("a live query is one SELECT statement");
  if (body.some((t) => t.kind === "punct" && t.text === ";"))
    throw unsupported("a live query is one statement");
  // GROUP BY without an aggregate passes the opcode check, but a row stands for its whole group:
  // which one depends on the other rows, so the changed rows alone cannot keep it up to date.
  const word = (i: number) => (body[i]?.kind === "word" ? body[i].text.toUpperCase() : undefined);
  if (body.some((_, i) => word(i) === "GROUP" && word(i + 1) === "BY"))
    throw unsupported("GROUP BY cannot be kept live row by row; select the rows and group on the client");
  const params = body.filter((t) => t.kind === "param");
  if (params.some((t) => t.text !== "?")) throw unsupported("live queries take positional ? parameters only");
  if (params.length !== paramCount)
    throw new ActorError(
      "VALIDATION_FAILED",
      `params: the query has ${params.length} parameters, ${paramCount} given`,
    );
  return sql.slice(0, body[body.length - 1].end);
}

/** The tables a statement reads, from its query plan (root pages opened), and refused opcodes. */
function tablesRead(
  sql: SqlStorage,
  text: string,
  params: readonly LiveParam[],
  checkOps = true,
): Set<string> {
  let plan: { opcode: string; p2: number; p3: number }[];
  try {
    plan = sql.exec<{ opcode: string; p2: number; p3: number }>(`EXPLAIN ${text}`, ...bind(params)).toArray();
  } catch (err) {
    throw new ActorError("VALIDATION_FAILED", `sql: ${err instanceof Error ? err.message : String(err)}`);
  }
  const refused = checkOps ? plan.find((op) => REFUSED_OPS.has(op.opcode)) : undefined;
  if (refused)
    throw unsupported(
      refused.opcode.startsWith("Agg") || refused.opcode === "Count"
        ? "aggregates cannot be kept live row by row; select the rows and aggregate on the client"
        : refused.opcode === "OffsetLimit" || refused.opcode === "DecrJumpZero"
          ? "LIMIT and OFFSET cannot be kept live row by row"
          : "a live query only reads",
    );
  const roots = new Set(plan.filter((op) => op.opcode === "OpenRead").map((op) => Number(op.p2)));
  if (roots.has(1)) throw unsupported("a live query reads one table under history");
  const names = new Set<string>();
  if (roots.size === 0) return names;
  const rows = sql
    .exec<{ tbl_name: string; rootpage: number }>(
      "SELECT tbl_name, rootpage FROM sqlite_master WHERE type IN ('table', 'index') AND rootpage > 0",
    )
    .toArray();
  for (const r of rows) if (roots.has(Number(r.rootpage))) names.add(r.tbl_name);
  return names;
}

/** Query plan lines that begin a new SELECT of a compound (UNION, UNION ALL, EXCEPT, INTERSECT). */
const COMPOUND_ARM = /^(LEFT|RIGHT|LEFT-MOST SUBQUERY|UNION ALL|(UNION|EXCEPT|INTERSECT) USING TEMP B-TREE)$/;

/**
 * A live query is kept up to date from the rows each commit changed (the table shadowed by them),
 * so whether a row is in the result must depend on that row alone. A self-join, or a subquery
 * reading the table, makes it depend on other rows: the changed rows alone give a wrong answer
 * (a row that joins the result because another row was added is never pushed). From the query
 * plan: each SELECT of the statement (each arm of a compound) may loop over the table once (a
 * MULTI-INDEX OR is one loop); table-valued functions are not the table.
 */
function checkRowByRow(sql: SqlStorage, text: string, params: readonly LiveParam[], table: string): void {
  const plan = sql
    .exec<{ id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${text}`, ...bind(params))
    .toArray();
  const byId = new Map(plan.map((row) => [row.id, row]));
  const loops = new Map<number, Set<number>>();
  for (const row of plan) {
    if (!/^(SCAN|SEARCH) /.test(row.detail) || /VIRTUAL TABLE|CONSTANT ROW/.test(row.detail)) continue;
    let loop = row.id;
    let scope = 0;
    for (let up = byId.get(row.parent); up; up = byId.get(up.parent)) {
      if (up.detail === "MULTI-INDEX OR") loop = up.id;
      if (COMPOUND_ARM.test(up.detail)) {
        scope = up.id;
        break;
      }
    }
    const inScope = loops.get(scope) ?? new Set<number>();
    inScope.add(loop);
    loops.set(scope, inScope);
    if (inScope.size > 1)
      throw unsupported(
        `a live query reads each row of ${table} on its own: no self-join, and no subquery on ${table}`,
      );
  }
}

export function bind(params: readonly LiveParam[]): SqlStorageValue[] {
  return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
}

/**
 * The SELECT over one image of each row of `table` changed in (afterLsn, upToLsn]: the newest
 * ("after": the row as the range left it) or the oldest change's before image ("before": the row
 * as it was when the range began).
 */
function changedRowsSql(table: TableInfo, text: string, which: "after" | "before"): string {
  const columns = table.columns.map((c) => quoteIdent(c.name)).join(", ");
  const values = table.columns.map((c) => decodeValue("img", c)).join(", ");
  // GROUP BY pk with max/min(lsn): SQLite takes the bare columns from the row holding it.
  const pick =
    which === "after"
      ? "max(lsn) AS l, CASE op WHEN 'U' THEN json_patch(before, after) WHEN 'I' THEN after END AS img"
      : "min(lsn) AS l, CASE op WHEN 'I' THEN NULL ELSE before END AS img";
  return `WITH ${quoteIdent(table.name)}(${columns}) AS (SELECT ${values} FROM (SELECT ${pick} FROM ${WAL} WHERE lsn > ? AND lsn <= ? AND tbl = ? GROUP BY pk) WHERE img IS NOT NULL) ${text}`;
}

/**
 * Check a live query and say which table it reads. `tracked`: the tables under history; `allowed`:
 * whether the actor offers live queries on a table.
 */
export function analyzeLiveQuery(
  sql: SqlStorage,
  query: unknown,
  params: readonly LiveParam[],
  tracked: ReadonlyMap<string, TableInfo>,
): LiveQuery {
  const text = singleSelect(query, params.length);
  const tables = tablesRead(sql, text, params);
  if (tables.size !== 1) throw unsupported("a live query reads exactly one table under history");
  const [name] = tables;
  const table = tracked.get(name);
  if (!table) throw unsupported(`table ${name} is not under history, so it cannot be queried live`);
  checkRowByRow(sql, text, params, name);
  const afterSql = changedRowsSql(table, text, "after");
  // The table must be shadowed by the CTE (a schema-qualified name would read the table itself).
  const shadowed = tablesRead(sql, afterSql, [0, 0, name, ...params], false);
  if (shadowed.has(name)) throw unsupported(`name the table plainly (${sqlString(name)}, no schema)`);
  // Rows are keyed by the primary key, so the query must return it (an empty range runs fast).
  const probe = sql.exec(afterSql, 0, 0, name, ...bind(params));
  const columnNames = probe.columnNames;
  probe.toArray(); // an unfinished cursor would hold a lock
  const missing = table.pk.filter((c) => !columnNames.includes(c));
  if (missing.length)
    throw unsupported(`a live query selects the primary key of ${name} (missing: ${missing.join(", ")})`);
  checkKeyColumns(text, table, columnNames);
  return { sql: text, table, afterSql, beforeSql: changedRowsSql(table, text, "before") };
}

/** Words that end a select list at its own depth when there is no FROM. */
const LIST_END = new Set([
  "FROM",
  "WHERE",
  "GROUP",
  "HAVING",
  "WINDOW",
  "ORDER",
  "LIMIT",
  "UNION",
  "EXCEPT",
  "INTERSECT",
]);
const COMPOUND = new Set(["UNION", "EXCEPT", "INTERSECT"]);

/** One result column of a select list: the name it gets, and the column it reads when it is a plain reference. */
interface ResultColumn {
  name?: string;
  column?: string;
  star?: boolean;
}

function resultColumn(item: Token[], depth: number): ResultColumn {
  let expr = item;
  let alias: string | undefined;
  const last = item[item.length - 1];
  const prev = item[item.length - 2];
  if (item.length >= 3 && isKeyword(prev, "AS")) {
    alias = identName(last);
    expr = item.slice(0, -2);
  } else if (
    item.length >= 2 &&
    last.depth === depth &&
    (last.kind === "word" || last.kind === "ident") &&
    (prev.kind !== "punct" || prev.text === ")")
  ) {
    alias = identName(last); // `expr alias`, without AS
    expr = item.slice(0, -1);
  }
  const tail = expr[expr.length - 1];
  if (tail?.text === "*" && (expr.length === 1 || (expr.length === 3 && expr[1].text === ".")))
    return { star: true };
  const plain = expr.length === 1 || (expr.length === 3 && expr[1].text === ".");
  const column = plain && tail.kind !== "punct" ? identName(tail) : undefined;
  return { name: alias ?? column, column };
}

/** The select list after the SELECT at `at`, as result columns. */
function selectList(tokens: Token[], at: number): ResultColumn[] {
  const depth = tokens[at].depth;
  let i = at + 1;
  if (isKeyword(tokens[i], "DISTINCT", "ALL")) i++;
  const items: Token[][] = [[]];
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.depth < depth || (t.depth === depth && (t.text === ")" || isKeyword(t, ...LIST_END)))) break;
    if (t.depth === depth && t.text === ",") items.push([]);
    else items[items.length - 1].push(t);
  }
  return items.filter((item) => item.length > 0).map((item) => resultColumn(item, depth));
}

/**
 * Rows are keyed by the key columns the result names, so those must hold the key: in every
 * SELECT of the statement a result column named like a key column is that column, named plainly
 * (`id`, `t.id`, `t.id AS id`); each arm of a compound has the key where the result has it; the
 * result names each key column once. (A view is refused already: it reads the table, not its shadow.)
 */
function checkKeyColumns(text: string, table: TableInfo, columnNames: string[]): void {
  const refuse = () =>
    unsupported(
      `a live query returns the primary key of ${table.name} as it is (no other value named ${table.pk.join(", ")})`,
    );
  const tokens = significant(tokenize(text));
  const same = (a: string | undefined, b: string) => a?.toLowerCase() === b.toLowerCase();
  for (const key of table.pk) if (columnNames.filter((n) => n === key).length !== 1) throw refuse();
  for (const [i, t] of tokens.entries()) {
    // Every arm of a compound is a SELECT (a VALUES arm adds rows no key stands for).
    if (t.depth === 0 && isKeyword(t, ...COMPOUND)) {
      const next = tokens[i + (isKeyword(tokens[i + 1], "ALL") ? 2 : 1)];
      if (!isKeyword(next, "SELECT")) throw refuse();
    }
    if (!isKeyword(t, "SELECT")) continue;
    const list = selectList(tokens, i);
    for (const c of list)
      if (c.name !== undefined && table.pk.includes(c.name) && !same(c.column, c.name)) throw refuse();
    // A later arm of a compound: the result's names are the first arm's, so go by position.
    if (t.depth !== 0 || i === 0) continue;
    const columns = list.flatMap((c) => (c.star ? table.columns.map((col) => ({ column: col.name })) : [c]));
    if (columns.length !== columnNames.length) throw refuse();
    for (const key of table.pk) if (!same(columns[columnNames.indexOf(key)].column, key)) throw refuse();
  }
}

/**
 * With a column grant (`history.live: { t: ["a", "b"] }`), a live query may name only granted
 * columns, anywhere (a WHERE on another column would leak it): no `*`, no other column name.
 */
export function checkGrantedColumns(sql: string, table: TableInfo, granted: ReadonlySet<string>): void {
  const hidden = new Set(table.columns.filter((c) => !granted.has(c.name)).map((c) => c.name.toLowerCase()));
  for (const token of tokenize(sql)) {
    if (token.kind === "punct" && token.text === "*")
      throw new ActorError(
        "FORBIDDEN",
        `history.live grants only some columns of ${table.name}: name them instead of *`,
      );
    const name = identName(token)?.toLowerCase();
    if (name !== undefined && hidden.has(name))
      throw new ActorError("FORBIDDEN", `history.live does not grant column ${name} of ${table.name}`);
  }
}
