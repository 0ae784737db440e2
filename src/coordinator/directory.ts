import { DurableObject } from "cloudflare:workers";
import { tableExists } from "../sql/tables";

/**
 * The names of the actors of one kind that have ever been written ("inventory", "orders"), so
 * that a lookup of an unknown name answers 404 without reaching (and so creating) the actor:
 * local workerd creates an object's SQLite file as soon as the object is instantiated, before it
 * runs any SQL. An actor registers its name before its first write; the coordinator (and the
 * Order actor, for the SKUs of a cart) asks here before calling an actor it has not seen.
 *
 * One object per kind. Reads never write: the table is created by the first `register`.
 */
export class Directory extends DurableObject {
  #hasTable = false;

  register(name: string): void {
    if (!this.#hasTable) {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS names (name TEXT PRIMARY KEY) WITHOUT ROWID");
      this.#hasTable = true;
    }
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO names (name) VALUES (?)", name);
  }

  /** Which of `names` are registered. */
  known(names: string[]): string[] {
    if (!this.#tableExists() || !Array.isArray(names)) return [];
    const found: string[] = [];
    for (let i = 0; i < names.length; i += CHUNK) {
      const chunk = names.slice(i, i + CHUNK).filter((n) => typeof n === "string");
      if (chunk.length === 0) continue;
      const marks = chunk.map(() => "?").join(", ");
      for (const row of this.ctx.storage.sql.exec<{ name: string }>(
        `SELECT name FROM names WHERE name IN (${marks})`,
        ...chunk,
      ))
        found.push(row.name);
    }
    return found;
  }

  #tableExists(): boolean {
    if (!this.#hasTable) this.#hasTable = tableExists(this.ctx.storage.sql, "names");
    return this.#hasTable;
  }
}

/** DO SQLite binds at most 100 parameters per statement. */
const CHUNK = 50;

export type DirectoryKind =
  | "inventory"
  | "orders"
  | "tenants"
  | "documents"
  | "buildings"
  | "central"
  | "analytics";
export interface DirectoryEnv {
  /** Optional: without it every name counts as known (lookups reach the actor, as before). */
  DIRECTORY?: DurableObjectNamespace<Directory>;
}

/** Names seen registered, per kind, in this isolate: a name is never unregistered, so a hit is final. */
const seen = new Map<DirectoryKind, Set<string>>();
const MAX_SEEN = 10_000;

function remember(kind: DirectoryKind, names: Iterable<string>): void {
  const set = seen.get(kind) ?? new Set<string>();
  seen.set(kind, set);
  for (const name of names) {
    if (set.size >= MAX_SEEN) set.clear();
    set.add(name);
  }
}

/** Record that actor `name` of `kind` exists (call before its first write; idempotent). */
export async function registerName(env: DirectoryEnv, kind: DirectoryKind, name: string): Promise<void> {
  if (!env.DIRECTORY || seen.get(kind)?.has(name)) return;
  await env.DIRECTORY.getByName(kind).register(name);
  remember(kind, [name]);
}

/** Which of `names` exist; every name when no directory is bound. */
export async function knownNames(
  env: DirectoryEnv,
  kind: DirectoryKind,
  names: string[],
): Promise<Set<string>> {
  if (!env.DIRECTORY) return new Set(names);
  const cached = seen.get(kind);
  const ask = names.filter((n) => !cached?.has(n));
  const found = ask.length ? await env.DIRECTORY.getByName(kind).known(ask) : [];
  remember(kind, found);
  return new Set(names.filter((n) => cached?.has(n) || found.includes(n)));
}

export async function isKnown(env: DirectoryEnv, kind: DirectoryKind, name: string): Promise<boolean> {
  return (await knownNames(env, kind, [name])).has(name);
}
