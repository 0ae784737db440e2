import { quoteIdent } from "../database";
import { keyExpr, rowImage } from "./codec";
import { BRANCHES, KEY_INDEX, lastLsn, STATE, SUBSCRIBERS, TRACKED, TRIGGER_PREFIX, WAL } from "./store";
import type { TableInfo } from "./tables";
import { dropAllTriggers } from "./triggers";

/**
 * What a restore from a backup means for history, and for consumers of the change feed:
 * a restore is a write. The rows it replaces and the rows it brings back are recorded as one
 * transaction (actor "restore") after everything already in the WAL, so
 * - LSNs never go backwards: a consumer resuming from its LSN gets the restore as ordinary
 *   inserts, updates and deletes, and durable subscribers, branches and retention carry on;
 * - `FOR SYSTEM_TIME AS OF` any time before the restore still answers what the data was then,
 *   and the restore itself can be undone like any transaction.
 * So the WAL, subscribers and branches of the actor are kept (the backup's copies are not put
 * back), except on an actor whose WAL is empty (a fresh actor restoring another's backup): it
 * takes the backup's history as it is. History's triggers are never taken from a backup; they are
 * dropped before the swap (it runs without capture) and installed again after it.
 */
const OWN_TABLES = new Set([WAL, TRACKED, STATE, SUBSCRIBERS, BRANCHES]);
const OLD = "_dosql_stage_history_old";
const NEW = "_dosql_stage_history_new";

/** History's own schema objects, which a backup carries but a restore must treat apart. */
export function isHistoryObject(name: string, table: string): boolean {
  return name.startsWith(TRIGGER_PREFIX) || name === KEY_INDEX || OWN_TABLES.has(table);
}

export interface RestoreCapture {
  /** Keep this table (and its indexes) as it is: the swap neither drops nor refills it. */
  keeps(table: string): boolean;
  /** Inside the restore's transaction, before the swap. */
  before(): void;
  /** Inside it, after the swap: reinstall history and record what the restore changed. */
  after(): void;
}

export function restoreCapture(
  sql: SqlStorage,
  captured: () => ReadonlyMap<string, TableInfo>,
  install: () => void,
): RestoreCapture {
  const keep = lastLsn(sql) > 0;
  let oldTables: TableInfo[] = [];
  return {
    keeps: (table) => keep && OWN_TABLES.has(table),
    before() {
      dropAllTriggers(sql);
      if (!keep) return;
      oldTables = [...captured().values()];
      snapshotImages(sql, OLD, oldTables);
    },
    after() {
      install();
      if (!keep) return;
      snapshotImages(sql, NEW, [...captured().values()]);
      recordDiff(sql);
      sql.exec(`DROP TABLE ${OLD}`);
      sql.exec(`DROP TABLE ${NEW}`);
    },
  };
}

/** Every row of `tables` as (table, WAL key, JSON image), in a scratch table. */
function snapshotImages(sql: SqlStorage, scratch: string, tables: readonly TableInfo[]): void {
  sql.exec(`DROP TABLE IF EXISTS ${scratch}`);
  sql.exec(`CREATE TABLE ${scratch} (tbl TEXT NOT NULL, pk, img TEXT NOT NULL)`);
  for (const t of tables) {
    sql.exec(
      `INSERT INTO ${scratch} (tbl, pk, img) SELECT ?, ${keyExpr("r", t)}, ${rowImage("r", t.columns)} FROM ${quoteIdent(t.name)} AS r`,
      t.name,
    );
  }
  sql.exec(`CREATE INDEX ${scratch}_key ON ${scratch} (tbl, pk)`);
}

/** The columns of `n` whose value differs from `o`'s, as a JSON object (an update's after image). */
const CHANGED = `(SELECT json_group_object(e.key, CASE WHEN e.type IN ('object', 'array') THEN json(e.value) ELSE e.value END)
  FROM json_each(n.img) AS e WHERE NOT EXISTS (SELECT 1 FROM json_each(o.img) AS f
    WHERE f.key = e.key AND f.type = e.type AND f.value IS e.value))`;

/** One closed transaction of WAL rows: deletes, updates, then inserts, after every LSN held. */
function recordDiff(sql: SqlStorage): void {
  sql.exec(`UPDATE ${WAL} SET mark = NULL WHERE mark IS NOT NULL`);
  const tx = lastLsn(sql) + 1;
  const at = Number(
    sql
      .exec(
        `SELECT max(CAST(unixepoch('subsec') * 1000 AS INTEGER), coalesce((SELECT max(at) FROM ${WAL}), 0)) AS at`,
      )
      .one().at,
  );
  const cols = `INSERT INTO ${WAL} (tx, at, actor, mark, tbl, op, pk, before, after)`;
  const match = "n.tbl = o.tbl AND n.pk IS o.pk";
  sql.exec(
    `${cols} SELECT ?, ?, 'restore', NULL, o.tbl, 'D', o.pk, o.img, NULL FROM ${OLD} AS o
     WHERE NOT EXISTS (SELECT 1 FROM ${NEW} AS n WHERE ${match}) ORDER BY o.rowid`,
    tx,
    at,
  );
  sql.exec(
    `${cols} SELECT ?, ?, 'restore', NULL, o.tbl, 'U', o.pk, o.img, ${CHANGED} FROM ${OLD} AS o
     JOIN ${NEW} AS n ON ${match} WHERE o.img IS NOT n.img ORDER BY o.rowid`,
    tx,
    at,
  );
  sql.exec(
    `${cols} SELECT ?, ?, 'restore', NULL, n.tbl, 'I', n.pk, NULL, n.img FROM ${NEW} AS n
     WHERE NOT EXISTS (SELECT 1 FROM ${OLD} AS o WHERE ${match}) ORDER BY n.rowid`,
    tx,
    at,
  );
  // The first row of a transaction is its id: if nothing changed, no row holds `tx` and nothing is recorded.
}
