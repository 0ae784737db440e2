import { quoteIdent } from "./database";
import { ActorError } from "./errors";
import { listTables } from "./sql/tables";

/**
 * drizzle-kit's `migrations.js` for `driver: "durable-sqlite"`: the journal plus each SQL file
 * (bundled as text). drizzle 1.0's journal-less layout is accepted too: `{ migrations: { tag: sql } }`
 * ordered by tag (its folders start with a timestamp).
 */
export interface MigrationBundle {
  journal?: { entries: ReadonlyArray<{ idx: number; tag: string; when?: number }> };
  migrations: Record<string, string>;
}

export interface Migration {
  tag: string;
  sql: string;
  hash: string;
}

export interface MigrationReport {
  applied: string[];
  version: string | null;
}

const LEDGER = "_dosql_migrations";
const HOLD_PREFIX = "_dosql_hold_";
const BREAKPOINT = "--> statement-breakpoint";

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
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/**
 * Apply every pending migration, each in its own transaction, recording tag and hash in a ledger.
 * Refuses edited and out-of-order migrations. Guards against lost rows (see `applyOne`).
 */
export function applyMigrations(
  storage: DurableObjectStorage,
  bundle: MigrationBundle | undefined,
  options?: { beforeApply?: () => void },
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
  if (applied.length < migrations.length) options?.beforeApply?.();
  for (let i = applied.length; i < migrations.length; i++) {
    const migration = migrations[i];
    storage.transactionSync(() => {
      try {
        applyOne(sql, migration);
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

function migrationError(tag: string, err: unknown): ActorError {
  const known = ActorError.from(err);
  if (known?.code === "MIGRATION_WOULD_LOSE_ROWS") return known;
  const reason = known?.description ?? (err instanceof Error ? err.message : String(err));
  return new ActorError("MIGRATION_FAILED", `migration ${tag} failed: ${reason}`, { migration: tag });
}

/** The user tables of the database: not SQLite's, not Cloudflare's, not the ledger or holds. */
export function userTables(sql: SqlStorage): string[] {
  return listTables(sql).flatMap((t) => (t.name.startsWith("_dosql_hold_") ? [] : [t.name]));
}

function countRows(sql: SqlStorage): Map<string, number> {
  const counts = new Map<string, number>();
  for (const table of userTables(sql))
    counts.set(table, Number(sql.exec(`SELECT count(*) AS n FROM ${quoteIdent(table)}`).one().n));
  return counts;
}

const IDENT = String.raw`(?:"((?:[^"]|"")+)"|\x60([^\x60]+)\x60|\[([^\]]+)\]|([A-Za-z_][\w$]*))`;
const DROP_TABLE = new RegExp(
  String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:${IDENT}\s*\.\s*)?${IDENT}`,
  "i",
);
const DELETE_FROM = new RegExp(String.raw`^DELETE\s+FROM\s+(?:${IDENT}\s*\.\s*)?${IDENT}`, "i");

function stripLeadingComments(statement: string): string {
  let s = statement.trim();
  for (;;) {
    if (s.startsWith("--")) s = s.slice(s.indexOf("\n") + 1 || s.length).trim();
    else if (s.startsWith("/*")) s = s.slice(s.indexOf("*/") + 2 || s.length).trim();
    else return s;
  }
}

function targetOf(pattern: RegExp, statement: string): string | undefined {
  const m = pattern.exec(statement);
  if (!m) return undefined;
  const groups = m.slice(1).filter((g) => g !== undefined);
  const name = groups.at(-1);
  return name?.replaceAll('""', '"');
}

interface Hold {
  parent: string;
  child: string;
  table: string;
}

/**
 * Apply one migration's statements. DO SQLite enforces foreign keys and ignores
 * `PRAGMA foreign_keys=OFF`, so the `DROP TABLE` of drizzle-kit's table rebuild would delete (or
 * null out) every referencing row. Before such a drop, the rows of every table that references the
 * dropped one, directly or through others, are held aside in a plain table; when a table of the
 * dropped name exists again (the rebuild's rename), they are put back exactly, rowids included.
 * Then row counts before and after are compared: rows gone from a table the migration did not
 * `DELETE FROM` itself mean a loss, and the whole migration is rolled back.
 */
function applyOne(sql: SqlStorage, migration: Migration): void {
  const before = countRows(sql);
  const deletedOnPurpose = new Set<string>();
  let holds: Hold[] = [];
  let holdSeq = 0;
  for (const raw of migration.sql.split(BREAKPOINT)) {
    const statement = stripLeadingComments(raw);
    if (!statement) continue;
    const deleted = targetOf(DELETE_FROM, statement);
    if (deleted) deletedOnPurpose.add(deleted);
    const dropped = targetOf(DROP_TABLE, statement);
    if (dropped && tableExists(sql, dropped)) {
      for (const child of referencingTables(sql, dropped)) {
        const table = `${HOLD_PREFIX}${holdSeq++}`;
        sql.exec(`CREATE TABLE ${table} AS SELECT rowid AS _dosql_rowid, * FROM ${quoteIdent(child)}`);
        holds.push({ parent: dropped, child, table });
      }
    }
    sql.exec(statement);
    holds = restoreHolds(sql, holds);
  }
  // A parent dropped for good: its children's rows stay as the cascade left them; the count guard decides.
  for (const hold of holds) sql.exec(`DROP TABLE ${hold.table}`);
  const after = countRows(sql);
  const losses = [...before]
    .filter(([table, count]) => !deletedOnPurpose.has(table) && (after.get(table) ?? count) < count)
    .map(([table, count]) => ({ table, before: count, after: after.get(table)! }));
  if (losses.length > 0) {
    const [first] = losses;
    throw new ActorError(
      "MIGRATION_WOULD_LOSE_ROWS",
      `migration ${migration.tag} would lose ${first.before - first.after} of ${first.before} rows of table ${first.table}` +
        (losses.length > 1 ? ` (and rows of ${losses.length - 1} more tables)` : ""),
      { migration: migration.tag, table: first.table, tables: losses.map((l) => l.table), losses },
    );
  }
}

function tableExists(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

function columnsOf(sql: SqlStorage, table: string): string[] {
  return sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table)
    .toArray()
    .map((r) => r.name);
}

/** Tables whose foreign keys reach `parent`, directly or through other tables, parents first. */
function referencingTables(sql: SqlStorage, parent: string): string[] {
  const edges = new Map<string, string[]>();
  for (const table of userTables(sql)) {
    for (const fk of sql
      .exec<{ table: string }>('SELECT "table" FROM pragma_foreign_key_list(?)', table)
      .toArray()) {
      const list = edges.get(fk.table) ?? [];
      list.push(table);
      edges.set(fk.table, list);
    }
  }
  const order: string[] = [];
  const queue = [parent];
  while (queue.length) {
    const next = queue.shift()!;
    for (const child of edges.get(next) ?? []) {
      if (child === parent || order.includes(child)) continue;
      order.push(child);
      queue.push(child);
    }
  }
  return order;
}

/** Put back held rows whose parent table exists again; returns the holds still waiting. */
function restoreHolds(sql: SqlStorage, holds: Hold[]): Hold[] {
  const waiting: Hold[] = [];
  for (const hold of holds) {
    if (!tableExists(sql, hold.parent) || !tableExists(sql, hold.child)) {
      waiting.push(hold);
      continue;
    }
    const current = new Set(columnsOf(sql, hold.child));
    const cols = columnsOf(sql, hold.table)
      .filter((c) => c !== "_dosql_rowid" && current.has(c))
      .map(quoteIdent)
      .join(", ");
    const child = quoteIdent(hold.child);
    sql.exec(`DELETE FROM ${child} WHERE rowid IN (SELECT _dosql_rowid FROM ${hold.table})`);
    sql.exec(`INSERT INTO ${child} (rowid, ${cols}) SELECT _dosql_rowid, ${cols} FROM ${hold.table}`);
    sql.exec(`DROP TABLE ${hold.table}`);
  }
  return waiting;
}
