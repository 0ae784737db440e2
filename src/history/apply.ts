import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { decodeValue, keyMatch } from "./codec";
import { parentsFirst, type TableInfo } from "./tables";

/** Put one row into a given state: `image` is the whole row as a JSON image, or null for "absent". */
export interface RowTarget {
  table: TableInfo;
  key: SqlStorageValue;
  image: string | null;
}

/**
 * Apply row states inside the caller's transaction: upserts parents first, deletes children first,
 * with foreign key checks deferred to the end (so rows referencing each other in any order work)
 * and then checked on the tables involved; a violation throws and the transaction rolls back.
 * Upserts that would not change a row write nothing, so they leave no history behind.
 */
export function applyTargets(
  sql: SqlStorage,
  targets: readonly RowTarget[],
  allTables: readonly TableInfo[],
): number {
  if (targets.length === 0) return 0;
  const byTable = new Map<string, RowTarget[]>();
  for (const t of targets) {
    const list = byTable.get(t.table.name) ?? [];
    list.push(t);
    byTable.set(t.table.name, list);
  }
  const order = parentsFirst([...new Set(targets.map((t) => t.table))]);
  let changed = 0;
  sql.exec("PRAGMA defer_foreign_keys = ON");
  try {
    for (const table of order)
      for (const t of byTable.get(table.name)!)
        if (t.image !== null) changed += upsert(sql, table, t.key, t.image);
    for (const table of [...order].reverse())
      for (const t of byTable.get(table.name)!) if (t.image === null) changed += remove(sql, table, t.key);
    checkForeignKeys(sql, order, allTables);
  } finally {
    sql.exec("PRAGMA defer_foreign_keys = OFF");
  }
  return changed;
}

function upsert(sql: SqlStorage, table: TableInfo, key: SqlStorageValue, image: string): number {
  const present = new Set(Object.keys(JSON.parse(image) as object));
  const cols = table.columns.filter((c) => present.has(c.name));
  if (!table.pk.every((k) => present.has(k)))
    throw new ActorError("HISTORY_CORRUPT", `a row image of ${table.name} lacks its key`, {
      table: table.name,
      key,
    });
  const names = cols.map((c) => quoteIdent(c.name));
  const others = cols.filter((c) => !table.pk.includes(c.name)).map((c) => quoteIdent(c.name));
  const target = quoteIdent(table.name);
  const onConflict = others.length
    ? `DO UPDATE SET ${others.map((n) => `${n} = excluded.${n}`).join(", ")} WHERE NOT (${others.map((n) => `${target}.${n} IS excluded.${n}`).join(" AND ")})`
    : "DO NOTHING";
  sql.exec(
    `INSERT INTO ${target} (${names.join(", ")}) SELECT ${cols.map((c) => decodeValue("j", c)).join(", ")} FROM (SELECT ? AS j) WHERE true ON CONFLICT (${table.pk.map(quoteIdent).join(", ")}) ${onConflict}`,
    image,
  );
  return Number(sql.exec("SELECT changes() AS n").one().n);
}

function remove(sql: SqlStorage, table: TableInfo, key: SqlStorageValue): number {
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
