import { ActorError } from "../errors";
import { significant, tokenize } from "../sql/tokens";

ActorError.defineStatus("READ_ONLY", 400);

/** The rollback that ends every read-only run (nothing it did is kept). */
class RolledBack extends Error {}

export interface ReadOnlyResult {
  rows: Record<string, SqlStorageValue>[];
  truncated: boolean;
}

/**
 * Run one statement so that it cannot write, decided by SQLite rather than by keywords:
 * 1. `EXPLAIN <statement>`: SQLite compiles it and shows its bytecode; a statement that writes
 *    opens a write transaction (opcode `Transaction` with p2 ≠ 0), which is exactly what
 *    `sqlite3_stmt_readonly` reads. That refuses `UPDATE … WHERE 0` and `DROP TABLE` too, which
 *    change no row (`rowsWritten` 0).
 * 2. The statement itself runs inside `transactionSync`, which is always rolled back, and is
 *    refused if SQLite counted a row written or changed (`rowsWritten`, `total_changes()`).
 * `PRAGMA query_only` would be the direct way, but DO SQLite refuses it (SQLITE_AUTH, local
 * workerd 2026-12), as it refuses `PRAGMA schema_version`. Only one statement is accepted
 * (the tokenizer finds a `;` outside strings and comments), since `EXPLAIN` covers only the first.
 */
export function readOnlyQuery(
  storage: DurableObjectStorage,
  sql: string,
  params: readonly unknown[],
  maxRows: number,
): ReadOnlyResult {
  checkOneStatement(sql);
  let result: ReadOnlyResult | undefined;
  try {
    storage.transactionSync(() => {
      const changesBefore = totalChanges(storage);
      const plan = storage.sql.exec<{ opcode: string; p2: number }>(`EXPLAIN ${sql}`, ...params).toArray();
      if (plan.some((op) => op.opcode === "Transaction" && Number(op.p2) !== 0)) throw readOnly();
      const cursor = storage.sql.exec(sql, ...params);
      const rows: Record<string, SqlStorageValue>[] = [];
      let truncated = false;
      for (const row of cursor) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
      if (cursor.rowsWritten > 0 || totalChanges(storage) !== changesBefore) throw readOnly();
      result = { rows, truncated };
      throw new RolledBack();
    });
  } catch (err) {
    if (!(err instanceof RolledBack)) {
      if (ActorError.from(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new ActorError("SQL_ERROR", message.slice(0, 500));
    }
  }
  return result!;
}

function totalChanges(storage: DurableObjectStorage): number {
  return Number(storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n);
}

function readOnly(): ActorError {
  return new ActorError("READ_ONLY", "fleet queries are read-only: this statement writes");
}

/** One statement (trailing semicolons aside), or VALIDATION_FAILED. */
export function checkOneStatement(sql: string): void {
  const tokens = significant(tokenize(sql));
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].kind === "punct" && tokens[end - 1].text === ";") end--;
  if (end === 0) throw new ActorError("VALIDATION_FAILED", "sql: a statement is required");
  if (tokens.slice(0, end).some((t) => t.kind === "punct" && t.text === ";"))
    throw new ActorError("VALIDATION_FAILED", "sql: one statement only");
}
