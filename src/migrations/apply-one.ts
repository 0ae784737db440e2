import { type SchemaChange, type Tracked, trackStatement } from "./changes";
import { checkForeignKeys, compareFingerprints, fingerprint } from "./guard";
import { discardHolds, holdReferencing, restoreHolds } from "./holds";
import { actionReach, readSchema } from "./schema";
import { splitStatements } from "./statements";

export interface Migration {
  tag: string;
  sql: string;
  hash: string;
}

/** What a part of the actor (history) learns from the migrations it runs, inside their transactions. */
export interface MigrationObserver {
  /** Once, before the first pending migration runs. */
  beforeApply?(): void;
  /** A table's shape changed (in statement order). */
  schemaChange?(change: SchemaChange): void;
  /** Around each statement that writes rows itself (INSERT, UPDATE, DELETE), with the tables it may change. */
  beforeWrite?(tables: readonly string[]): void;
  afterWrite?(): void;
  /** The migration's statements are done and checked (only when it wrote rows itself). */
  wrote?(tag: string): void;
}

/**
 * Apply one migration's statements inside the caller's transaction, keeping every row and every
 * link. Each statement is read for what it does, not how it is laid out:
 * - before a `DROP TABLE` of a table that others reference (directly or through others), their
 *   rows are held aside and removed, so the drop runs no ON DELETE action (DO SQLite enforces
 *   foreign keys and ignores `PRAGMA foreign_keys=OFF`); they are put back as soon as their table
 *   and every table it references exist again (after a rebuild's rename), rowids included;
 * - foreign keys are deferred, so NO ACTION keys are checked at the end, not mid-rebuild;
 * - the guard: every table is compared with what the migration left in it itself (its state
 *   before, or after the migration's last own write to it): row counts, a checksum of its keys and
 *   of each referencing column; then `PRAGMA foreign_key_check` must be clean. Anything else
 *   throws, and the caller's transaction rolls back.
 */
export function applyOne(sql: SqlStorage, migration: Migration, observer?: MigrationObserver): void {
  sql.exec("PRAGMA defer_foreign_keys = ON");
  let schema = readSchema(sql);
  const state: Tracked = { expected: new Map(), holds: [], dropped: new Map() };
  for (const shape of schema.values()) state.expected.set(shape.name, fingerprint(sql, shape));
  let seq = 0;
  let wrote = false;
  for (const statement of splitStatements(migration.sql)) {
    if (statement.drops !== undefined && schema.has(statement.drops))
      state.holds.push(...holdReferencing(sql, schema, statement.drops, () => seq++));
    const writes = statement.writes;
    if (writes !== undefined) {
      const touched = [writes, ...actionReach(schema, writes)];
      observer?.beforeWrite?.(touched);
      sql.exec(statement.text);
      observer?.afterWrite?.();
      wrote = true;
      // What the migration writes itself is what the guard expects of these tables from now on.
      for (const name of touched) {
        const shape = schema.get(name);
        if (shape) state.expected.set(name, fingerprint(sql, shape));
      }
    } else {
      sql.exec(statement.text);
      const post = readSchema(sql);
      for (const change of trackStatement(schema, post, state)) observer?.schemaChange?.(change);
      schema = post;
      for (const shape of schema.values())
        if (!state.expected.has(shape.name)) state.expected.set(shape.name, fingerprint(sql, shape));
    }
    state.holds = restoreHolds(sql, schema, state.holds);
  }
  discardHolds(sql, state.holds);
  compareFingerprints(migration.tag, sql, schema, state.expected);
  checkForeignKeys(migration.tag, sql, schema);
  if (wrote) observer?.wrote?.(migration.tag);
  sql.exec("PRAGMA defer_foreign_keys = OFF");
}
