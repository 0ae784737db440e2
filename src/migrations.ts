import { ActorError } from "./errors";
import { hashHalves } from "./hash";
import { applyOne, type Migration, type MigrationObserver } from "./migrations/apply-one";
import { listTables } from "./sql/tables";

export type { Migration, MigrationObserver } from "./migrations/apply-one";
export type { SchemaChange } from "./migrations/changes";

/**
 * drizzle-kit's `migrations.js` for `driver: "durable-sqlite"`: the journal plus each SQL file
 * (bundled as text). drizzle 1.0's journal-less layout is accepted too: `{ migrations: { tag: sql } }`
 * ordered by tag (its folders start with a timestamp).
 */
export interface MigrationBundle {
  journal?: { entries: ReadonlyArray<{ idx: number; tag: string; when?: number }> };
  migrations: Record<string, string>;
}

export interface MigrationReport {
  applied: string[];
  version: string | null;
}

const LEDGER = "_dosql_migrations";

/** Order a bundle into migrations with a content hash, refusing a bundle that does not hang together. */
export function readBundle(bundle: MigrationBundle | undefined): Migration[] {
  if (!bundle) return [];
  const files = bundle.migrations ?? {};
  if (bundle.journal) {
    return [...bundle.journal.entries]
      .sort((a, b) => a.idx - b.idx)
      .map((entry) => {
        const sql = files[`m${String(entry.idx).padStart(4, "0")}`] ?? files[entry.tag];
        if (typeof sql !== "string")
          throw new ActorError(
            "MIGRATION_FAILED",
            `migration ${entry.tag} is in the journal but its SQL is missing`,
            {
              migration: entry.tag,
            },
          );
        return { tag: entry.tag, sql, hash: hashText(sql) };
      });
  }
  return Object.keys(files)
    .sort()
    .map((tag) => ({ tag, sql: files[tag], hash: hashText(files[tag]) }));
}

/** cyrb53: a fast 53-bit content hash, enough to notice an edited migration (not a security hash). */
export function hashText(text: string): string {
  const [h1, h2] = hashHalves(text);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/**
 * Apply every pending migration, each in its own transaction, recording tag and hash in a ledger.
 * Refuses edited and out-of-order migrations. Keeps every row and every link (see `applyOne`).
 */
export function applyMigrations(
  storage: DurableObjectStorage,
  bundle: MigrationBundle | undefined,
  observer?: MigrationObserver,
): MigrationReport {
  const sql = storage.sql;
  const migrations = readBundle(bundle);
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${LEDGER} (idx INTEGER PRIMARY KEY, tag TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
  );
  const applied = sql
    .exec<{ idx: number; tag: string; hash: string }>(`SELECT idx, tag, hash FROM ${LEDGER} ORDER BY idx`)
    .toArray();
  applied.forEach((row, i) => {
    const expected = migrations[i];
    if (!expected || expected.tag !== row.tag) {
      const intruder = expected && !applied.some((a) => a.tag === expected.tag) ? expected.tag : row.tag;
      throw new ActorError(
        "MIGRATION_OUT_OF_ORDER",
        expected
          ? `migration ${intruder} sits before the already-applied ${row.tag}; give it a later position`
          : `applied migration ${row.tag} is missing from the bundle`,
        { migration: intruder },
      );
    }
    if (expected.hash !== row.hash)
      throw new ActorError("MIGRATION_EDITED", `migration ${row.tag} was edited after it was applied`, {
        migration: row.tag,
      });
  });
  const done: string[] = [];
  // Called once, only when something is pending (history drops its triggers here).
  if (applied.length < migrations.length) observer?.beforeApply?.();
  for (let i = applied.length; i < migrations.length; i++) {
    const migration = migrations[i];
    storage.transactionSync(() => {
      try {
        applyOne(sql, migration, observer);
      } catch (err) {
        throw migrationError(migration.tag, err);
      }
      sql.exec(
        `INSERT INTO ${LEDGER} (idx, tag, hash, applied_at) VALUES (?, ?, ?, ?)`,
        i,
        migration.tag,
        migration.hash,
        Date.now(),
      );
    });
    done.push(migration.tag);
  }
  return { applied: done, version: migrations.at(-1)?.tag ?? applied.at(-1)?.tag ?? null };
}

/** One observer telling each of `observers` in turn (undefined when none observes). */
export function allObservers(observers: (MigrationObserver | undefined)[]): MigrationObserver | undefined {
  const all = observers.filter((o) => o !== undefined);
  if (all.length <= 1) return all[0];
  const each =
    <K extends keyof MigrationObserver>(key: K) =>
    (...args: Parameters<NonNullable<MigrationObserver[K]>>) => {
      for (const o of all) (o[key] as ((...a: typeof args) => void) | undefined)?.(...args);
    };
  return {
    beforeApply: each("beforeApply"),
    schemaChange: each("schemaChange"),
    beforeWrite: each("beforeWrite"),
    afterWrite: each("afterWrite"),
    wrote: each("wrote"),
  };
}

function migrationError(tag: string, err: unknown): ActorError {
  const known = ActorError.from(err);
  if (known?.code === "MIGRATION_WOULD_LOSE_ROWS" || known?.code === "MIGRATION_WOULD_BREAK_REFERENCES")
    return known;
  const reason = known?.description ?? (err instanceof Error ? err.message : String(err));
  return new ActorError("MIGRATION_FAILED", `migration ${tag} failed: ${reason}`, { migration: tag });
}

/** The user tables of the database: not SQLite's, not Cloudflare's, not the ledger or holds. */
export function userTables(sql: SqlStorage): string[] {
  return listTables(sql).flatMap((t) => (t.name.startsWith("_dosql_hold_") ? [] : [t.name]));
}
