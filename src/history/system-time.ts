import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { identName, stringValue, type Token, tokenize } from "../sql/tokens";
import { decodeValue, keyExpr, sqlString } from "./codec";
import { TX_FACTS, WAL } from "./store";
import type { TableInfo } from "./tables";
import { assertCovered, lsnAfter, toTime } from "./time";
import type { Tracking } from "./tracking";

/**
 * `FOR SYSTEM_TIME` in `this.query`: each `table FOR SYSTEM_TIME …` becomes a subquery with the
 * table's name (or its alias), so the rest of the statement (joins, WHERE, ORDER BY) is unchanged.
 *   AS OF t          the rows as they were at t
 *   BETWEEN a AND b  row versions valid at some point in [a, b]   (plus _valid_from, _valid_to)
 *   FROM a TO b      row versions valid at some point in [a, b)
 *   ALL              every row version history holds
 * Times are `?` parameters, numbers (epoch ms) or string literals (ISO-8601), optionally after TIMESTAMP.
 * (Which statements come here is decided in src/query-route.ts.)
 */
type Period =
  | { kind: "asOf"; at: number }
  | { kind: "range"; from: number; to: number; inclusive: boolean }
  | { kind: "all" };

const NOT_ALIAS = new Set(
  "WHERE JOIN INNER LEFT RIGHT FULL CROSS NATURAL ON USING ORDER GROUP HAVING LIMIT UNION EXCEPT INTERSECT WINDOW RETURNING OFFSET AND OR FROM SELECT FOR".split(
    " ",
  ),
);
const MAX_TIME = 8_640_000_000_000_000;

export function rewriteSystemTime(
  sql: SqlStorage,
  tracking: Tracking,
  text: string,
  params: readonly unknown[],
): { sql: string; params: unknown[] } {
  const sig = tokenize(text)
    .filter((t) => t.kind !== "space" && t.kind !== "comment")
    .map((t) => ({ t }));
  const word = (k: number, w: string) => sig[k]?.t.kind === "word" && sig[k].t.text.toUpperCase() === w;
  // Only a real clause changes anything ("system_time" may also be a column name or in a string).
  if (!sig.some((_, k) => word(k, "FOR") && word(k + 1, "SYSTEM_TIME")))
    return { sql: text, params: [...params] };
  let paramIndex = 0;
  const consumed = new Set<number>();
  const paramAt = new Map<Token, number>();
  for (const { t } of sig)
    if (t.kind === "param") {
      if (t.text !== "?")
        throw new ActorError(
          "VALIDATION_FAILED",
          "queries with FOR SYSTEM_TIME take plain ? parameters only",
        );
      paramAt.set(t, paramIndex++);
    }
  if (paramIndex !== params.length)
    throw new ActorError(
      "VALIDATION_FAILED",
      `the query has ${paramIndex} parameters but ${params.length} were given`,
    );

  const value = (k: number): { time: number; next: number } => {
    let at = k;
    if (word(at, "TIMESTAMP")) at++;
    const t = sig[at]?.t;
    if (!t) throw new ActorError("VALIDATION_FAILED", "FOR SYSTEM_TIME needs a time");
    if (t.kind === "param") {
      const index = paramAt.get(t)!;
      consumed.add(index);
      return { time: toTime(params[index]), next: at + 1 };
    }
    if (t.kind === "number") return { time: toTime(Number(t.text)), next: at + 1 };
    if (t.kind === "string") return { time: toTime(stringValue(t)), next: at + 1 };
    throw new ActorError("VALIDATION_FAILED", `FOR SYSTEM_TIME expects a time, found ${t.text}`);
  };

  const edits: { start: number; end: number; text: string }[] = [];
  for (let k = 0; k < sig.length; k++) {
    if (!(word(k, "FOR") && word(k + 1, "SYSTEM_TIME"))) continue;
    // The table (and an alias written before FOR).
    let alias: string | undefined;
    let tk = k - 1;
    const name = (j: number) => (sig[j] ? identName(sig[j].t) : undefined);
    if (
      name(tk) !== undefined &&
      (word(tk - 1, "AS") || (name(tk - 1) !== undefined && !isKeyword(sig[tk - 1].t)))
    ) {
      alias = name(tk);
      tk -= word(tk - 1, "AS") ? 2 : 1;
    }
    const table = name(tk);
    if (table === undefined || (sig[tk].t.kind === "word" && isKeyword(sig[tk].t)))
      throw new ActorError("VALIDATION_FAILED", "FOR SYSTEM_TIME must follow a table name");
    let start = sig[tk].t.start;
    if (sig[tk - 1]?.t.text === "." && name(tk - 2)?.toLowerCase() === "main") start = sig[tk - 2].t.start;
    // The period.
    let j = k + 2;
    let period: Period;
    if (word(j, "AS") && word(j + 1, "OF")) {
      const v = value(j + 2);
      period = { kind: "asOf", at: v.time };
      j = v.next;
    } else if (word(j, "BETWEEN") || word(j, "FROM")) {
      const inclusive = word(j, "BETWEEN");
      const a = value(j + 1);
      if (!word(a.next, inclusive ? "AND" : "TO"))
        throw new ActorError(
          "VALIDATION_FAILED",
          `FOR SYSTEM_TIME ${inclusive ? "BETWEEN a AND b" : "FROM a TO b"} is incomplete`,
        );
      const b = value(a.next + 1);
      period = { kind: "range", from: a.time, to: b.time, inclusive };
      j = b.next;
    } else if (word(j, "ALL")) {
      period = { kind: "all" };
      j += 1;
    } else
      throw new ActorError(
        "VALIDATION_FAILED",
        "FOR SYSTEM_TIME must be followed by AS OF, BETWEEN, FROM or ALL",
      );
    let end = sig[j - 1].t.end;
    // An alias written after the clause.
    if (alias === undefined) {
      if (word(j, "AS") && name(j + 1) !== undefined) {
        alias = name(j + 1);
        end = sig[j + 1].t.end;
        j += 2;
      } else if (name(j) !== undefined && !(sig[j].t.kind === "word" && isKeyword(sig[j].t))) {
        alias = name(j);
        end = sig[j].t.end;
        j += 1;
      }
    }
    const body = subquery(sql, tracking, table, period);
    edits.push({ start, end, text: `(${body}) AS ${quoteIdent(alias ?? table)}` });
    k = j - 1;
  }
  let out = text;
  for (const e of edits.reverse()) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { sql: out, params: params.filter((_, i) => !consumed.has(i)) };
}

function isKeyword(t: Token): boolean {
  return t.kind === "word" && NOT_ALIAS.has(t.text.toUpperCase());
}

/** A tracked table by the name a query gives it: SQLite's names are case-insensitive, so is this. */
function byName<T>(tables: ReadonlyMap<string, T>, name: string): T | undefined {
  const exact = tables.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of tables) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function subquery(sql: SqlStorage, tracking: Tracking, table: string, period: Period): string {
  const log = byName(tracking.appendOnly, table);
  if (log) return appendOnlySubquery(log.info, log.timeColumn, period);
  const info = byName(tracking.captured, table);
  if (!info)
    throw new ActorError("HISTORY_NOT_TRACKED", `table ${quoteIdent(table)} is not tracked by history`, {
      table,
    });
  if (period.kind === "asOf") {
    assertCovered(sql, info.name, period.at);
    return asOfSubquery(info, lsnAfter(sql, period.at));
  }
  const versions = versionsSubquery(info);
  if (period.kind === "all") return versions;
  const { from, to, inclusive } = period;
  return `SELECT * FROM (${versions}) WHERE coalesce(_valid_from, -1) ${inclusive ? "<=" : "<"} ${to} AND coalesce(_valid_to, ${MAX_TIME}) > ${from}`;
}

const columnList = (info: TableInfo, alias = "") =>
  info.columns.map((c) => (alias ? `${alias}.${quoteIdent(c.name)}` : quoteIdent(c.name))).join(", ");
const decodedColumns = (info: TableInfo, image: string) =>
  info.columns.map((c) => `${decodeValue(image, c)} AS ${quoteIdent(c.name)}`).join(", ");

/**
 * The table as of the time whose first later LSN is `from`: current rows whose key has not changed
 * since, plus the row before the first later change of every changed key that existed then. Reads
 * only WAL rows from `from` on (a rowid range: `+tbl` keeps SQLite off the key index).
 */
export function asOfSubquery(info: TableInfo, from: number): string {
  const tbl = sqlString(info.name);
  const changed = `SELECT pk FROM ${WAL} WHERE lsn >= ${from} AND +tbl = ${tbl} AND pk IS NOT NULL`;
  return `SELECT ${columnList(info)} FROM ${quoteIdent(info.name)} WHERE ${keyExpr(quoteIdent(info.name), info)} NOT IN (${changed})
 UNION ALL SELECT ${decodedColumns(info, "b")} FROM (SELECT before AS b, min(lsn) FROM ${WAL} WHERE lsn >= ${from} AND +tbl = ${tbl} GROUP BY pk) WHERE b IS NOT NULL`;
}

/** Every row version held, with `_valid_from` / `_valid_to` (epoch ms; NULL = before history / still current). */
export function versionsSubquery(info: TableInfo): string {
  const tbl = sqlString(info.name);
  const changes = `SELECT w.lsn, w.op, w.pk, w.before, w.after, x.at,
 lead(x.at) OVER (PARTITION BY w.pk ORDER BY w.lsn) AS next_at,
 row_number() OVER (PARTITION BY w.pk ORDER BY w.lsn) AS rn
 FROM ${WAL} w ${TX_FACTS} WHERE w.tbl = ${tbl}`;
  return `WITH ch AS (${changes})
 SELECT ${columnList(info)}, NULL AS _valid_from, NULL AS _valid_to FROM ${quoteIdent(info.name)} WHERE ${keyExpr(quoteIdent(info.name), info)} NOT IN (SELECT pk FROM ch WHERE pk IS NOT NULL)
 UNION ALL SELECT ${decodedColumns(info, "img")}, at, next_at FROM (SELECT CASE op WHEN 'I' THEN after ELSE json_patch(before, after) END AS img, at, next_at FROM ch WHERE op <> 'D' AND (next_at IS NULL OR next_at > at))
 UNION ALL SELECT ${decodedColumns(info, "before")}, NULL, at FROM ch WHERE rn = 1 AND op <> 'I'`;
}

function appendOnlySubquery(info: TableInfo, timeColumn: string, period: Period): string {
  const time = quoteIdent(timeColumn);
  const from = `FROM ${quoteIdent(info.name)}`;
  if (period.kind === "asOf") return `SELECT ${columnList(info)} ${from} WHERE ${time} <= ${period.at}`;
  const versions = `SELECT ${columnList(info)}, ${time} AS _valid_from, NULL AS _valid_to ${from}`;
  if (period.kind === "all") return versions;
  return `${versions} WHERE ${time} ${period.inclusive ? "<=" : "<"} ${period.to}`;
}
