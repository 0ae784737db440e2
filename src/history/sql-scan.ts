/**
 * A small SQL tokenizer: enough to find `FOR SYSTEM_TIME` clauses and `?` parameters while never
 * looking inside string literals, quoted identifiers or comments.
 */
export type TokenKind = "space" | "comment" | "string" | "ident" | "word" | "number" | "param" | "punct";
export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i, end });
    i = end;
  };
  const until = (close: string, from: number, doubled: boolean) => {
    let j = from;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k < 0) return sql.length;
      if (doubled && sql.startsWith(close, k + 1)) {
        j = k + 2;
        continue;
      }
      return k + close.length;
    }
  };
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /\s/.test(sql[j])) j++;
      push("space", j);
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      push("comment", nl < 0 ? sql.length : nl + 1);
    } else if (c === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      push("comment", close < 0 ? sql.length : close + 2);
    } else if (c === "'") push("string", until("'", i + 1, true));
    else if (c === '"') push("ident", until('"', i + 1, true));
    else if (c === "`") push("ident", until("`", i + 1, true));
    else if (c === "[") push("ident", until("]", i + 1, false));
    else if (c === "?" || c === ":" || c === "@" || c === "$") {
      let j = i + 1;
      while (j < sql.length && /[\w$]/.test(sql[j])) j++;
      if (c !== "?" && j === i + 1) push("punct", i + 1);
      else push("param", j);
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)/i.exec(sql.slice(i));
      push("number", i + (m ? m[0].length : 1));
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[\w$\u0080-\uffff]/.test(sql[j])) j++;
      push("word", j);
    } else push("punct", i + 1);
  }
  return tokens;
}

/** The name an identifier token spells: unquoted, with doubled quotes undone. */
export function identName(token: Token): string | undefined {
  if (token.kind === "word") return token.text;
  if (token.kind !== "ident") return undefined;
  const body = token.text.slice(1, -1);
  if (token.text[0] === '"') return body.replaceAll('""', '"');
  if (token.text[0] === "`") return body.replaceAll("``", "`");
  return body;
}

/** A string literal's value. */
export function stringValue(token: Token): string {
  return token.text.slice(1, -1).replaceAll("''", "'");
}
