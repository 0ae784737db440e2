import type { MigrationObserver, SchemaChange } from "../migrations";
import { tableExists } from "../sql/tables";
import { CLOSE, CLOSE_AS } from "./capture";
import { TRACKED, WAL } from "./store";
import { describeTable } from "./tables";
import { captureTriggers, dropTrigger } from "./triggers";

/**
 * History's part in the migrations an actor applies (the runner reports what each statement did):
 * - the row images already recorded are rewritten to the new shape of their table, inside the
 *   migration's transaction: a renamed table or column takes its new name, an added column its
 *   default (the value its existing rows got), a dropped column leaves the images. So AS OF,
 *   restoreTo, undo and the feed read every image under today's names;
 * - rows the migration writes itself (a data migration's UPDATE, INSERT or DELETE) are recorded
 *   like any change, as one transaction of their own whose actor is the migration's tag.
 * Outside data statements the capture triggers stay dropped, so schema changes and the runner's
 * own moves of rows (held aside during a table rebuild) are not recorded.
 */
export function migrationObserver(sql: SqlStorage, beforeApply: () => void): MigrationObserver {
  let installed: string[] = [];
  /** The migration's own changes are being recorded (one transaction, closed by `wrote`). */
  let open = false;
  const tracked = () =>
    tableExists(sql, TRACKED)
      ? new Set(
          sql
            .exec<{ tbl: string }>(`SELECT tbl FROM ${TRACKED}`)
            .toArray()
            .map((r) => r.tbl),
        )
      : new Set<string>();
  return {
    beforeApply,
    schemaChange: (change) => {
      if (tableExists(sql, WAL)) translate(sql, change);
    },
    beforeWrite: (tables) => {
      const names = tracked();
      for (const table of tables) {
        const info = names.has(table) ? describeTable(sql, table) : undefined;
        if (!info) continue;
        if (!open) sql.exec(CLOSE); // a transaction left open by the last run is not the migration's
        open = true;
        for (const trigger of captureTriggers(info)) {
          sql.exec(trigger.sql);
          installed.push(trigger.name);
        }
      }
    },
    afterWrite: () => {
      for (const name of installed) dropTrigger(sql, name);
      installed = [];
    },
    wrote: (tag) => {
      if (open) sql.exec(CLOSE_AS, tag);
      open = false;
    },
  };
}

const path = (column: string) => `$."${column}"`;

/** Rewrite the recorded images of one table to its new shape. */
function translate(sql: SqlStorage, change: SchemaChange): void {
  switch (change.kind) {
    case "renameTable":
      sql.exec(`UPDATE ${WAL} SET tbl = ? WHERE tbl = ?`, change.to, change.from);
      sql.exec(`UPDATE ${TRACKED} SET tbl = ? WHERE tbl = ?`, change.to, change.from);
      return;
    case "renameColumn": {
      const move = (image: string) =>
        `CASE WHEN json_type(${image}, ?1) IS NULL THEN ${image} ELSE json_set(json_remove(${image}, ?1), ?2, json(${image} -> ?1)) END`;
      sql.exec(
        `UPDATE ${WAL} SET before = ${move("before")}, after = ${move("after")} WHERE tbl = ?3`,
        path(change.from),
        path(change.to),
        change.table,
      );
      return;
    }
    case "addColumn": {
      // The value the column's existing rows got: its default (SQL text SQLite keeps in the schema
      // the migration wrote), as a JSON image value; blobs as {"$b": hex} like every image.
      const value =
        change.defaultSql === null
          ? "null"
          : String(
              sql
                .exec(
                  `SELECT CASE WHEN typeof(v) = 'blob' THEN json_object('$b', hex(v)) ELSE json_quote(v) END AS j FROM (SELECT (${change.defaultSql}) AS v)`,
                )
                .one().j,
            );
      // Whole-row images: every `before`, and the `after` of an insert (an update's `after` holds only what changed).
      sql.exec(
        `UPDATE ${WAL} SET before = CASE WHEN before IS NULL THEN NULL ELSE json_insert(before, ?1, json(?2)) END,
         after = CASE WHEN op = 'I' AND after IS NOT NULL THEN json_insert(after, ?1, json(?2)) ELSE after END WHERE tbl = ?3`,
        path(change.column),
        value,
        change.table,
      );
      return;
    }
    case "dropColumn":
      sql.exec(
        `UPDATE ${WAL} SET before = json_remove(before, ?1), after = json_remove(after, ?1) WHERE tbl = ?2`,
        path(change.column),
        change.table,
      );
      return;
  }
}
