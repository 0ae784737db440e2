import { identName, type Token, tokenize } from "../sql/tokens";

/**
 * One statement of a migration and what it does to tables, read from its tokens (never from its
 * layout): comments, case, quoting and statement breakpoints make no difference.
 */
export interface Statement {
  text: string;
  /** `DROP TABLE x`: the table it drops. */
  drops?: string;
  /** `INSERT`/`REPLACE`/`UPDATE`/`DELETE`: the table it writes (the migration's own write). */
  writes?: string;
  /** The kind of that write. */
  write?: "insert" | "update" | "delete";
}

const BREAKPOINT = /^--> statement-breakpoint/;

/**
 * Split a migration into single statements: at every `;` outside strings, identifiers, comments
 * and trigger bodies, and at drizzle-kit's `--> statement-breakpoint` comments (hand-written
 * migrations often separate statements by breakpoints alone).
 */
export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let current: Token[] = [];
  let inTrigger = false;
  let body = false;
  let caseDepth = 0;
  const flush = () => {
    const words = significant(current);
    if (words.length > 0) {
      const text = sql.slice(current[0].start, current.at(-1)!.end);
      out.push({ text, ...effectOf(words) });
    }
    current = [];
    inTrigger = false;
    body = false;
    caseDepth = 0;
  };
  for (const token of tokenize(sql)) {
    if (token.kind === "comment" && BREAKPOINT.test(token.text)) {
      flush();
      continue;
    }
    current.push(token);
    if (token.kind === "word") {
      const word = token.text.toUpperCase();
      if (word === "TRIGGER" && significant(current).length <= 4) inTrigger = true;
      else if (inTrigger && word === "BEGIN") body = true;
      else if (body && word === "CASE") caseDepth++;
      else if (body && word === "END") {
        if (caseDepth > 0) caseDepth--;
        else body = false;
      }
    } else if (token.kind === "punct" && token.text === ";" && !body) flush();
  }
  flush();
  return out;
}

function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== "space" && t.kind !== "comment" && t.text !== ";");
}

function effectOf(words: Token[]): Omit<Statement, "text"> {
  const is = (k: number, w: string) => words[k]?.kind === "word" && words[k].text.toUpperCase() === w;
  /** A table name at `k` (skipping a `schema.` prefix): the name and the index after it. */
  const tableAt = (k: number): { name?: string; next: number } => {
    if (words[k + 1]?.text === "." && words[k + 2]) return { name: identName(words[k + 2]), next: k + 3 };
    return { name: words[k] ? identName(words[k]) : undefined, next: k + 1 };
  };
  if (is(0, "DROP") && is(1, "TABLE")) {
    const at = is(2, "IF") && is(3, "EXISTS") ? 4 : 2;
    return { drops: tableAt(at).name };
  }
  // Skip a leading WITH clause: the write is the first INSERT/REPLACE/UPDATE/DELETE at depth 0.
  let k = 0;
  if (is(0, "WITH")) {
    let depth = 0;
    for (k = 1; k < words.length; k++) {
      const t = words[k].text;
      if (t === "(") depth++;
      else if (t === ")") depth--;
      else if (depth === 0 && ["INSERT", "REPLACE", "UPDATE", "DELETE"].some((w) => is(k, w))) break;
    }
  }
  if (is(k, "INSERT") || is(k, "REPLACE")) {
    let at = k + 1;
    if (is(at, "OR")) at += 2;
    if (is(at, "INTO")) at++;
    return { writes: tableAt(at).name, write: "insert" };
  }
  if (is(k, "UPDATE")) {
    const at = is(k + 1, "OR") ? k + 3 : k + 1;
    return { writes: tableAt(at).name, write: "update" };
  }
  if (is(k, "DELETE") && is(k + 1, "FROM")) return { writes: tableAt(k + 2).name, write: "delete" };
  return {};
}
