import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import {
  decodeValue,
  keyMatch,
  keyObject,
  parseImage,
  type Row,
  type WalKey,
  walKey,
  walKeyColumns,
} from "./codec";
import { lastLsn, WAL } from "./store";
import { parentsFirst, type TableInfo } from "./tables";

/** Put one row into a given state: `image` is the whole row as a JSON image, or null for "absent". */
export interface RowTarget {
  table: TableInfo;
  key: WalKey;
  image: string | null;
}

/**
 * A change the writes made to a row they did not target: a foreign key's ON DELETE CASCADE or
 * SET NULL (or an application trigger) reaching a row written by someone else. Undo, merge and
 * restore never apply these silently.
 */
export interface SideEffect {
  table: string;
  key: Row;
  op: "insert" | "update" | "delete";
  lsn: number;
  /** The row before the side effect, and after it (null when it was deleted). */
  before: Row | null;
  after: Row | null;
}

export interface ApplyResult {
  changed: number;
  sideEffects: SideEffect[];
}

const OPS = { I: "insert", U: "update", D: "delete" } as const;

/**
 * Apply row states inside the caller's transaction: deletes first (children first), so a UNIQUE
 * value or a key can move back to the row it came from, then upserts (parents first), with
 * foreign key checks deferred to the end and then checked on the tables involved. A UNIQUE clash
 * is retried after the other rows (a value moving along a chain of rows); a cycle is a CONFLICT.
 * Upserts that would not change a row write nothing, so they leave no history behind. Every
 * change recorded beyond the targets' own rows is returned as a side effect for the caller to judge.
 */
export function applyTargets(
  sql: SqlStorage,
  targets: readonly RowTarget[],
  allTables: readonly TableInfo[],
): ApplyResult {
  if (targets.length === 0) return { changed: 0, sideEffects: [] };
  const byTable = new Map<string, RowTarget[]>();
  for (const t of targets) {
    const list = byTable.get(t.table.name) ?? [];
    list.push(t);
    byTable.set(t.table.name, list);
  }
  const order = parentsFirst([...new Set(targets.map((t) => t.table))]);
  const start = lastLsn(sql);
  let changed = 0;
  sql.exec("PRAGMA defer_foreign_keys = ON");
  try {
    for (const table of [...order].reverse())
      for (const t of byTable.get(table.name)!) if (t.image === null) changed += remove(sql, table, t.key);
    let pending = order.flatMap((table) => byTable.get(table.name)!.filter((t) => t.image !== null));
    while (pending.length) {
      const clashed: { target: RowTarget; message: string }[] = [];
      for (const t of pending) {
        try {
          changed += upsert(sql, t.table, t.key, t.image!);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (!/UNIQUE constraint failed/i.test(message)) throw err;
          clashed.push({ target: t, message });
        }
      }
      if (clashed.length === pending.length) {
        const first = clashed[0].target;
        throw new ActorError(
          "CONFLICT",
          `a UNIQUE value of ${first.table.name} is held by another row the writes do not free (${clashed[0].message})`,
          { table: first.table.name, key: keyObject(first.table, first.key) },
        );
      }
      pending = clashed.map((c) => c.target);
    }
    checkForeignKeys(sql, order, allTables);
  } finally {
    sql.exec("PRAGMA defer_foreign_keys = OFF");
  }
  return { changed, sideEffects: sideEffects(sql, start, targets, allTables) };
}

function sideEffects(
  sql: SqlStorage,
  after: number,
  targets: readonly RowTarget[],
  allTables: readonly TableInfo[],
): SideEffect[] {
  const own = new Set(targets.map((t) => keyId(t.table.name, t.key)));
  const byName = new Map(allTables.map((t) => [t.name, t]));
  const out: SideEffect[] = [];
  for (const r of sql.exec<{
    lsn: number;
    tbl: string;
    op: "I" | "U" | "D";
    pk: SqlStorageValue;
    pk_digits: string | null;
    before: string | null;
    after: string | null;
  }>(
    `SELECT lsn, tbl, op, ${walKeyColumns()}, before, after FROM ${WAL} WHERE lsn > ? ORDER BY lsn`,
    after,
  )) {
    const pk = walKey(r);
    if (own.has(keyId(r.tbl, pk))) continue;
    const info = byName.get(r.tbl);
    const before = parseImage(r.before);
    const changes = parseImage(r.after);
    out.push({
      table: r.tbl,
      key: info ? keyObject(info, pk) : { key: r.pk instanceof ArrayBuffer ? new Uint8Array(r.pk) : r.pk },
      op: OPS[r.op],
      lsn: r.lsn,
      before,
      after: r.op === "D" ? null : r.op === "U" ? { ...before, ...changes } : changes,
    });
  }
  return out;
}

/**
 * The rows among the upserted `targets` that are their own ancestors through a single-column
 * foreign key of their table to itself (a parent chain that loops back to the row). Each side of a
 * merge may be a tree while the two together are not (A moved under B there, B under A here).
 */
export function selfReferenceLoops(sql: SqlStorage, targets: readonly RowTarget[]): RowTarget[] {
  const loops: RowTarget[] = [];
  for (const table of new Set(targets.map((t) => t.table))) {
    if (table.pk.length !== 1) continue;
    const rows = targets.filter(
      (t) =>
        t.table === table && t.image !== null && (typeof t.key === "string" || typeof t.key === "number"),
    );
    const fks = sql
      .exec<{ id: number; from: string; to: string | null }>(
        'SELECT id, "from", "to" FROM pragma_foreign_key_list(?) WHERE "table" = ?',
        table.name,
        table.name,
      )
      .toArray();
    for (const fk of fks) {
      if (fks.filter((f) => f.id === fk.id).length !== 1) continue;
      const [t, parent, key] = [
        quoteIdent(table.name),
        quoteIdent(fk.from),
        quoteIdent(fk.to ?? table.pk[0]),
      ];
      // UNION (not UNION ALL): a (start, row) pair seen before ends the walk, so a loop ends it too.
      const hits = sql
        .exec<{ start: SqlStorageValue }>(
          `WITH RECURSIVE up(start, id) AS (
             SELECT r.${key}, r.${parent} FROM ${t} r WHERE r.${key} IN (SELECT value FROM json_each(?))
               AND r.${parent} IS NOT NULL
             UNION SELECT up.start, r.${parent} FROM up JOIN ${t} r ON r.${key} = up.id WHERE r.${parent} IS NOT NULL)
           SELECT DISTINCT start FROM up WHERE id = start`,
          JSON.stringify(rows.map((r) => r.key)),
        )
        .toArray()
        .map((h) => h.start);
      loops.push(...rows.filter((r) => hits.includes(r.key as SqlStorageValue) && !loops.includes(r)));
    }
  }
  return loops;
}

/** A (table, WAL key) pair as one comparable string. */
export function keyId(table: string, pk: WalKey): string {
  const value =
    pk instanceof ArrayBuffer ? `b:${[...new Uint8Array(pk)].join(",")}` : `${typeof pk}:${String(pk)}`;
  return `${table}\u0000${value}`;
}

function upsert(sql: SqlStorage, table: TableInfo, key: WalKey, image: string): number {
  const present = new Set(Object.keys(JSON.parse(image) as object));
  const cols = table.columns.filter((c) => present.has(c.name));
  if (!table.pk.every((k) => present.has(k)))
    throw new ActorError("HISTORY_CORRUPT", `a row image of ${table.name} lacks its key`, {
      table: table.name,
      key,
    });
  const names = cols.map((c) => quoteIdent(c.name));
  const otherCols = cols.filter((c) => !table.pk.includes(c.name));
  const others = otherCols.map((c) => quoteIdent(c.name));
  const target = quoteIdent(table.name);
  // Byte for byte (not the column's collation), and by type where no affinity makes 1 and 1.0 one.
  const same = otherCols.map((c) => {
    const [t, x] = [`${target}.${quoteIdent(c.name)}`, `excluded.${quoteIdent(c.name)}`];
    return c.affinity === "BLOB"
      ? `(${t} IS ${x} COLLATE BINARY AND typeof(${t}) = typeof(${x}))`
      : `${t} IS ${x} COLLATE BINARY`;
  });
  const onConflict = others.length
    ? `DO UPDATE SET ${others.map((n) => `${n} = excluded.${n}`).join(", ")} WHERE NOT (${same.join(" AND ")})`
    : "DO NOTHING";
  sql.exec(
    `INSERT INTO ${target} (${names.join(", ")}) SELECT ${cols.map((c) => decodeValue("j", c)).join(", ")} FROM (SELECT ? AS j) WHERE true ON CONFLICT (${table.pk.map(quoteIdent).join(", ")}) ${onConflict}`,
    image,
  );
  return Number(sql.exec("SELECT changes() AS n").one().n);
}

function remove(sql: SqlStorage, table: TableInfo, key: WalKey): number {
  const match = keyMatch(table);
  sql.exec(`DELETE FROM ${quoteIdent(table.name)} WHERE ${match.sql}`, ...match.bind(key));
  return Number(sql.exec("SELECT changes() AS n").one().n);
}

function checkForeignKeys(
  sql: SqlStorage,
  touched: readonly TableInfo[],
  allTables: readonly TableInfo[],
): void {
  const names = new Set(touched.map((t) => t.name));
  const check = allTables.filter((t) => names.has(t.name) || t.parents.some((p) => names.has(p)));
  for (const t of check) {
    if (t.parents.length === 0) continue;
    const bad = sql
      .exec<{ table: string; parent: string }>(
        'SELECT "table", parent FROM pragma_foreign_key_check(?) LIMIT 1',
        t.name,
      )
      .toArray();
    if (bad.length)
      throw new ActorError(
        "FOREIGN_KEY_VIOLATION",
        `the result would leave rows of ${bad[0].table} referencing missing rows of ${bad[0].parent}`,
        { table: bad[0].table, parent: bad[0].parent },
      );
  }
}
