import { identName, isKeyword, significant, tokenize } from "./tokens";

/** The collations DO SQLite has: the built-in ones (no others can be registered). */
export const COLLATIONS = ["BINARY", "NOCASE", "RTRIM"] as const;
export type Collation = (typeof COLLATIONS)[number];

const TABLE_CONSTRAINT = new Set(["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]);

/**
 * The declared collation of each column of a `CREATE TABLE` statement (lower-case name →
 * collation, upper case); columns without `COLLATE` are BINARY and left out. SQLite has no
 * pragma for it, so the statement from sqlite_master is read with the tokenizer.
 */
export function columnCollations(createSql: string): Map<string, string> {
  const out = new Map<string, string>();
  const tokens = significant(tokenize(createSql));
  const open = tokens.findIndex((t) => t.text === "(" && t.depth === 0);
  if (open < 0) return out;
  let part: typeof tokens = [];
  const finish = () => {
    const name = identName(part[0]);
    if (name !== undefined && !isKeyword(part[0], ...TABLE_CONSTRAINT)) {
      const at = part.findIndex((t) => t.depth === 1 && isKeyword(t, "COLLATE"));
      const collation = at > 0 ? identName(part[at + 1]) : undefined;
      if (collation !== undefined) out.set(name.toLowerCase(), collation.toUpperCase());
    }
    part = [];
  };
  for (const t of tokens.slice(open + 1)) {
    if (t.depth === 0) break; // the closing parenthesis
    if (t.depth === 1 && t.text === ",") finish();
    else part.push(t);
  }
  finish();
  return out;
}
