/**
 * The framework's one SQL tokenizer, for its extensions of SQLite's SQL: `FOR SYSTEM_TIME`
 * (history), `'<scheme>://…'` sources in FROM position (cold queries, virtual tables), and the
 * checks of schema SQL. It never evaluates SQL; it finds tokens, their positions and parenthesis
 * depth, so callers can rewrite by position and never look inside strings, quoted names or comments.
 *
 * Parameters follow SQLite's own rules: `?` (the next index), `?NNN` (index NNN), and `:name`,
 * `@name`, `$name` (a new index the first time a name is seen, the same index after).
 */
export type TokenKind =
  | "space"
  | "comment"
  | "string"
  | "blob"
  /** A bare word: a keyword or an unquoted name. */
  | "word"
  /** A quoted name: "x", `x` or [x]. */
  | "ident"
  | "number"
  | "param"
  | "punct";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Parenthesis depth the token sits at. */
  depth: number;
  /** For `param`: the 1-based index SQLite gives it. */
  param?: number;
  /** For `string`: the unescaped value; for `ident`: the unquoted name; for `word`: the text. */
  value?: string;
}

const OPS = ["->>", "<<", ">>", "<=", ">=", "==", "!=", "<>", "||", "->"];
const SPACE = /\s/;
const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[\w$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let maxParam = 0;
  const named = new Map<string, number>();
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, extra?: Partial<Token>) => {
    tokens.push({ kind, text: sql.slice(start, end), start, end, depth, ...extra });
  };
  while (i < sql.length) {
    const c = sql[i];
    const start = i;
    if (SPACE.test(c)) {
      while (i < sql.length && SPACE.test(sql[i])) i++;
      push("space", start, i);
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
      push("comment", start, i);
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
      push("comment", start, i);
    } else if (c === "'" || c === '"' || c === "`") {
      i = quotedEnd(sql, i, c);
      const value = sql.slice(start + 1, i - 1).replaceAll(c + c, c);
      push(c === "'" ? "string" : "ident", start, i, { value });
    } else if (c === "[") {
      const close = sql.indexOf("]", i);
      i = close < 0 ? sql.length : close + 1;
      push("ident", start, i, { value: sql.slice(start + 1, i - 1) });
    } else if ((c === "x" || c === "X") && sql[i + 1] === "'") {
      i = quotedEnd(sql, i + 1, "'");
      push("blob", start, i);
    } else if (WORD_START.test(c)) {
      while (i < sql.length && WORD_PART.test(sql[i])) i++;
      push("word", start, i, { value: sql.slice(start, i) });
    } else if (DIGIT.test(c) || (c === "." && DIGIT.test(sql[i + 1] ?? ""))) {
      const m = NUMBER.exec(sql.slice(i, i + 400));
      i += m ? m[0].length : 1;
      push("number", start, i);
    } else if (c === "?") {
      i++;
      while (i < sql.length && DIGIT.test(sql[i])) i++;
      const n = i > start + 1 ? Number(sql.slice(start + 1, i)) : maxParam + 1;
      maxParam = Math.max(maxParam, n);
      push("param", start, i, { param: n });
    } else if ((c === ":" || c === "@" || c === "$") && WORD_PART.test(sql[i + 1] ?? "")) {
      i++;
      while (i < sql.length && WORD_PART.test(sql[i])) i++;
      const name = sql.slice(start, i);
      let n = named.get(name);
      if (n === undefined) {
        n = ++maxParam;
        named.set(name, n);
      }
      push("param", start, i, { param: n });
    } else {
      const op = OPS.find((o) => sql.startsWith(o, i));
      i += op ? op.length : 1;
      if (c === ")") depth = Math.max(0, depth - 1);
      push("punct", start, i);
      if (c === "(") depth++;
    }
  }
  return tokens;
}

function quotedEnd(sql: string, open: number, q: string): number {
  let i = open + 1;
  for (;;) {
    const next = sql.indexOf(q, i);
    if (next < 0) return sql.length;
    if (sql[next + 1] === q) i = next + 2;
    else return next + 1;
  }
}

/** Tokens without spaces and comments, keeping their positions. */
export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "space" && t.kind !== "comment");
}

/** A bare word that is one of `words` (upper case). */
export function isKeyword(token: Token | undefined, ...words: string[]): boolean {
  return !!token && token.kind === "word" && words.includes(token.text.toUpperCase());
}

/** The name a word or quoted identifier stands for, or undefined. */
export function identName(token: Token | undefined): string | undefined {
  if (!token) return undefined;
  if (token.kind === "ident" || token.kind === "word") return token.value;
  return undefined;
}

/** A string literal's value. */
export function stringValue(token: Token): string {
  return token.value ?? token.text.slice(1, -1).replaceAll("''", "'");
}

/** Replace token ranges by new text, from last to first so positions stay valid. */
export function splice(sql: string, edits: { start: number; end: number; text: string }[]): string {
  let out = sql;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
