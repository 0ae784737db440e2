/**
 * A small SQLite tokenizer: enough to find `'r2://…'` table references, their aliases and the
 * WHERE conjuncts around them, and to rewrite the SQL by token position. It never evaluates SQL;
 * anything it does not understand is left alone (so pruning is skipped, never wrong).
 */
export type TokenKind = "ws" | "comment" | "string" | "blob" | "ident" | "quoted" | "number" | "param" | "op";

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Parenthesis depth the token sits at. */
  depth: number;
  /** For `param`: the 1-based parameter index SQLite gives it. */
  param?: number;
  /** For `string`/`quoted`: the unescaped value. For `ident`: the text. */
  value?: string;
}

const OPS = ["->>", "<<", ">>", "<=", ">=", "==", "!=", "<>", "||", "->"];

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
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i])) i++;
      push("ws", start, i);
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
      const body = sql.slice(start + 1, i - 1).replaceAll(c + c, c);
      push(c === "'" ? "string" : "quoted", start, i, { value: body });
    } else if (c === "[") {
      const close = sql.indexOf("]", i);
      i = close < 0 ? sql.length : close + 1;
      push("quoted", start, i, { value: sql.slice(start + 1, i - 1) });
    } else if ((c === "x" || c === "X") && sql[i + 1] === "'") {
      i = quotedEnd(sql, i + 1, "'");
      push("blob", start, i);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (i < sql.length && /[\w$\u0080-\uffff]/.test(sql[i])) i++;
      push("ident", start, i, { value: sql.slice(start, i) });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(sql.slice(i));
      i += m ? m[0].length : 1;
      push("number", start, i);
    } else if (c === "?") {
      i++;
      while (i < sql.length && /[0-9]/.test(sql[i])) i++;
      const n = i > start + 1 ? Number(sql.slice(start + 1, i)) : maxParam + 1;
      maxParam = Math.max(maxParam, n);
      push("param", start, i, { param: n });
    } else if ((c === ":" || c === "@" || c === "$") && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      i++;
      while (i < sql.length && /[\w$]/.test(sql[i])) i++;
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
      push("op", start, i);
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

/** Tokens without whitespace and comments, keeping their positions. */
export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "ws" && t.kind !== "comment");
}

export function isKeyword(token: Token | undefined, ...words: string[]): boolean {
  return !!token && token.kind === "ident" && words.includes(token.text.toUpperCase());
}

/** The name an identifier token stands for (quoted or not), or undefined. */
export function identName(token: Token | undefined): string | undefined {
  if (!token) return undefined;
  if (token.kind === "quoted") return token.value;
  if (token.kind === "ident") return token.text;
  return undefined;
}

/** Replace token ranges by new text, from last to first so positions stay valid. */
export function splice(sql: string, edits: { start: number; end: number; text: string }[]): string {
  let out = sql;
  for (const edit of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}
