import { identName, isKeyword, significant, type Token, tokenize } from "./tokens";

/** A range condition on one column, taken from a top-level `AND` conjunct of a WHERE clause. */
export interface ColumnFilter {
  column: string;
  op: "=" | "<" | "<=" | ">" | ">=";
  value: number | string;
}

/**
 * A table reference in a FROM/JOIN position: a `'<scheme>://…'` string literal (an R2 archive,
 * and the virtual tables to come), or a named hot table.
 */
export interface SourceRef {
  kind: "url" | "table";
  /** For `url`: the scheme before `://`, lower case ("r2", "https", …). */
  scheme?: string;
  /** The URL or the table name. */
  ref: string;
  start: number;
  end: number;
  alias?: string;
  /**
   * Conditions every row the query can use must satisfy. Only used to skip files and row groups:
   * SQLite still evaluates the whole WHERE clause on what is loaded.
   */
  filters: ColumnFilter[];
}

const CLAUSES = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "GROUP",
  "HAVING",
  "ORDER",
  "LIMIT",
  "WINDOW",
  "VALUES",
  "SET",
  "RETURNING",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "INTO",
]);
const NOT_ALIAS = new Set([
  ...CLAUSES,
  "JOIN",
  "ON",
  "USING",
  "LEFT",
  "RIGHT",
  "FULL",
  "INNER",
  "CROSS",
  "NATURAL",
  "OUTER",
  "INDEXED",
  "NOT",
]);
const WHERE_END = new Set([
  "GROUP",
  "HAVING",
  "ORDER",
  "LIMIT",
  "WINDOW",
  "RETURNING",
  "UNION",
  "EXCEPT",
  "INTERSECT",
]);

/** `scheme://` at the start of a string literal. */
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]{0,15}):\/\//;

/**
 * Every source of the statement: `'<scheme>://…'` literals in FROM position, and (when `table` is
 * given) references to that hot table. String literals elsewhere are left alone.
 */
export function findSources(sql: string, params: readonly unknown[], table?: string): SourceRef[] {
  return sourcesIn(significant(tokenize(sql)), params, table);
}

/** `findSources` over tokens already scanned (without spaces and comments). */
export function sourcesIn(tokens: Token[], params: readonly unknown[], table?: string): SourceRef[] {
  const clauseAt: string[] = [];
  const sources: SourceRef[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "punct" && t.text === "(") clauseAt[t.depth + 1] = "";
    if (t.kind === "word") {
      const word = t.text.toUpperCase();
      if (CLAUSES.has(word) && !isDistinctFrom(tokens, i)) clauseAt[t.depth] = word;
      else if (word === "JOIN") clauseAt[t.depth] = "FROM";
    }
    const prev = tokens[i - 1];
    const inFrom =
      (isKeyword(prev, "FROM", "JOIN") && !isDistinctFrom(tokens, i - 1)) ||
      (prev?.kind === "punct" && prev.text === "," && clauseAt[t.depth] === "FROM");
    if (!inFrom) continue;
    let kind: SourceRef["kind"] | undefined;
    const scheme = t.kind === "string" ? URL_SCHEME.exec(t.value!)?.[1].toLowerCase() : undefined;
    if (scheme) kind = "url";
    else if (
      table !== undefined &&
      (t.kind === "word" || t.kind === "ident") &&
      identName(t)!.toLowerCase() === table.toLowerCase() &&
      tokens[i + 1]?.text !== "." &&
      tokens[i + 1]?.text !== "("
    )
      kind = "table";
    if (!kind) continue;
    const { alias, next } = aliasAfter(tokens, i + 1);
    const names = new Set([alias ?? (kind === "table" ? identName(t)! : "")].map((n) => n.toLowerCase()));
    sources.push({
      kind,
      scheme,
      ref: kind === "url" ? t.value! : identName(t)!,
      start: t.start,
      end: t.end,
      alias,
      filters: whereFilters(tokens, next, t.depth, names, params),
    });
  }
  return sources;
}

/** The FROM of the operator `a IS [NOT] DISTINCT FROM b`: no FROM clause starts there. */
function isDistinctFrom(tokens: Token[], i: number): boolean {
  return isKeyword(tokens[i], "FROM") && isKeyword(tokens[i - 1], "DISTINCT");
}

function aliasAfter(tokens: Token[], i: number): { alias?: string; next: number } {
  const t = tokens[i];
  if (isKeyword(t, "AS")) {
    const name = identName(tokens[i + 1]);
    return name ? { alias: name, next: i + 2 } : { next: i + 1 };
  }
  if (t?.kind === "ident" || (t?.kind === "word" && !NOT_ALIAS.has(t.text.toUpperCase())))
    return { alias: identName(t), next: i + 1 };
  return { next: i };
}

/** Filters from the WHERE clause of the SELECT core that holds the source at `depth`. */
function whereFilters(
  tokens: Token[],
  from: number,
  depth: number,
  names: Set<string>,
  params: readonly unknown[],
): ColumnFilter[] {
  let i = from;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.depth < depth || t.text === ";") return [];
    if (t.depth > depth) continue;
    if (isKeyword(t, "WHERE")) break;
    if (isKeyword(t, ...WHERE_END)) return [];
  }
  const region: Token[] = [];
  for (i++; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.depth < depth || t.text === ";") break;
    if (t.depth === depth && isKeyword(t, ...WHERE_END)) break;
    region.push(t);
  }
  const filters: ColumnFilter[] = [];
  collect(region, depth, names, params, filters);
  return filters;
}

/** Split a condition at its top-level ANDs; give up on a top-level OR (it widens the result). */
function collect(
  region: Token[],
  depth: number,
  names: Set<string>,
  params: readonly unknown[],
  out: ColumnFilter[],
): void {
  const parts: Token[][] = [[]];
  let caseDepth = 0;
  let betweenOpen = false;
  for (const t of region) {
    const top = t.depth === depth && caseDepth === 0;
    if (t.depth === depth && isKeyword(t, "CASE")) caseDepth++;
    if (t.depth === depth && isKeyword(t, "END") && caseDepth > 0) caseDepth--;
    if (top && isKeyword(t, "OR")) return;
    if (top && isKeyword(t, "BETWEEN")) betweenOpen = true;
    if (top && isKeyword(t, "AND")) {
      if (betweenOpen) betweenOpen = false;
      else {
        parts.push([]);
        continue;
      }
    }
    parts.at(-1)!.push(t);
  }
  for (const part of parts) {
    const first = part[0];
    const last = part.at(-1);
    if (
      first?.text === "(" &&
      last?.text === ")" &&
      last.depth === depth &&
      part.slice(1, -1).every((t) => t.depth > depth)
    ) {
      collect(part.slice(1, -1), depth + 1, names, params, out);
      continue;
    }
    out.push(...conjunctFilters(part, names, params));
  }
}

const AS_IS: Record<string, ColumnFilter["op"]> = {
  "=": "=",
  "==": "=",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};
/** `5 < col` is `col > 5`. */
const FLIP: Record<string, ColumnFilter["op"]> = {
  "=": "=",
  "==": "=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

function conjunctFilters(part: Token[], names: Set<string>, params: readonly unknown[]): ColumnFilter[] {
  const col = columnAt(part, 0, names);
  if (col) {
    const rest = part.slice(col.length);
    if (isKeyword(rest[0], "BETWEEN")) {
      const lo = valueAt(rest, 1, params);
      if (!lo || !isKeyword(rest[1 + lo.length], "AND")) return [];
      const hi = valueAt(rest, 2 + lo.length, params);
      if (!hi || 2 + lo.length + hi.length !== rest.length) return [];
      return [
        { column: col.name, op: ">=", value: lo.value },
        { column: col.name, op: "<=", value: hi.value },
      ];
    }
    const op = rest[0]?.kind === "punct" ? AS_IS[rest[0].text] : undefined;
    const value = valueAt(rest, 1, params);
    if (op && value && 1 + value.length === rest.length)
      return [{ column: col.name, op, value: value.value }];
    return [];
  }
  const value = valueAt(part, 0, params);
  if (!value) return [];
  const opToken = part[value.length];
  const op = opToken?.kind === "punct" ? FLIP[opToken.text] : undefined;
  const right = columnAt(part, value.length + 1, names);
  if (op && right && value.length + 1 + right.length === part.length)
    return [{ column: right.name, op, value: value.value }];
  return [];
}

/** `col` or `alias.col` naming a column of this source. */
function columnAt(
  part: Token[],
  i: number,
  names: Set<string>,
): { name: string; length: number } | undefined {
  const a = part[i];
  const nameA = a && a.kind !== "string" ? identName(a) : undefined;
  if (!nameA) return undefined;
  if (part[i + 1]?.text === ".") {
    const nameB = part[i + 2]?.kind !== "string" ? identName(part[i + 2]) : undefined;
    if (!nameB || !names.has(nameA.toLowerCase())) return undefined;
    return { name: nameB, length: 3 };
  }
  if (a.kind === "word" && /^(NULL|TRUE|FALSE|CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME)$/i.test(a.text))
    return undefined;
  return { name: nameA, length: 1 };
}

function valueAt(
  part: Token[],
  i: number,
  params: readonly unknown[],
): { value: number | string; length: number } | undefined {
  let t = part[i];
  let sign = 1;
  let length = 1;
  if (t?.kind === "punct" && (t.text === "-" || t.text === "+")) {
    sign = t.text === "-" ? -1 : 1;
    t = part[i + 1];
    length = 2;
    if (t?.kind !== "number") return undefined;
  }
  if (!t) return undefined;
  if (t.kind === "number") {
    const n = Number(t.text) * sign;
    // An integer literal beyond 2^53 is exact in SQLite but rounds here: comparing the rounded
    // value could prune the very row it names, so such a filter prunes nothing.
    const integer = !/[.eE]/.test(t.text) || /^0x/i.test(t.text);
    return Number.isFinite(n) && (!integer || Number.isSafeInteger(n)) ? { value: n, length } : undefined;
  }
  if (t.kind === "string") return { value: t.value!, length };
  if (t.kind === "param") {
    const v = comparable(params[t.param! - 1]);
    return v === undefined ? undefined : { value: v, length };
  }
  return undefined;
}

/** A bound parameter as SQLite will compare it, or undefined when pruning should not use it. */
function comparable(v: unknown): number | string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "bigint") return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : undefined; // see valueAt
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  return undefined;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** `*` matches any run of characters, `/` included: `<prefix>/*.parquet` is every file under it. */
export function globPattern(path: string): RegExp {
  return new RegExp(
    `^${path
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}
