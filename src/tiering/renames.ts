import type { MigrationObserver } from "../migrations";
import { tableExists } from "../sql/tables";
import { MANIFEST } from "./tables";

/**
 * Archived files keep the column names their rows had. A migration that renames a column of a
 * table with archived files is recorded here with the newest file of the table then, so reading
 * those files (and the ones before them) gives their columns today's names; a renamed table takes
 * its files along. Part of the actor's data, like the manifest: a backup carries both.
 */
export const RENAMES = "_dosql_archive_renames";

/** Tiering's part in the migrations an actor applies: it follows renames (src/migrations/changes.ts). */
export function renameObserver(sql: SqlStorage): MigrationObserver {
  return {
    schemaChange: (change) => {
      if (!tableExists(sql, MANIFEST)) return;
      if (change.kind === "renameTable") {
        sql.exec(`UPDATE ${MANIFEST} SET tbl = ? WHERE tbl = ?`, change.to, change.from);
        if (tableExists(sql, RENAMES))
          sql.exec(`UPDATE ${RENAMES} SET tbl = ? WHERE tbl = ?`, change.to, change.from);
      } else if (change.kind === "renameColumn") {
        sql.exec(
          `CREATE TABLE IF NOT EXISTS ${RENAMES} (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, last_file INTEGER NOT NULL)`,
        );
        sql.exec(
          `INSERT INTO ${RENAMES} (tbl, old, new, last_file) SELECT ?1, ?2, ?3, max(id) FROM ${MANIFEST} WHERE tbl = ?1 HAVING count(*) > 0`,
          change.table,
          change.from,
          change.to,
        );
      }
    },
  };
}

/** Today's name of each column of `table`'s archived file `fileId` (a function of the file's own name). */
export function currentNames(sql: SqlStorage, table: string, fileId: number): (name: string) => string {
  if (!tableExists(sql, RENAMES)) return (name) => name;
  const renames = sql
    .exec<{ old: string; new: string }>(
      `SELECT old, new FROM ${RENAMES} WHERE tbl = ? AND last_file >= ? ORDER BY seq`,
      table,
      fileId,
    )
    .toArray();
  // Column names compare as SQLite compares them: without case.
  return (name) => renames.reduce((n, r) => (n.toLowerCase() === r.old.toLowerCase() ? r.new : n), name);
}
