import type { BlockRow, Query } from "./blocks";
import type { OpKind, OpType } from "./schema";

/** An operations row. */
export interface OperationRow {
  id: number;
  user_id: string;
  block_id: string | null;
  kind: OpKind;
  op_type: OpType | null;
  op_data: string;
  before_state: string | null;
  after_state: string | null;
  ref_id: number | null;
  state: "done" | "undone" | "dropped" | null;
  undone_by: number | null;
  timestamp: number;
  lsn: number;
}

/** An entry of the history route. */
export interface HistoryEntry {
  id: number;
  userId: string;
  blockId: string | null;
  kind: OpKind;
  opType: OpType | null;
  operation: unknown;
  before: unknown;
  after: unknown;
  refId: number | null;
  state: string | null;
  timestamp: number;
  lsn: number;
}

/** A history page holds at most about this much of the log's text (one RPC answer holds 32 MiB). */
export const MAX_PAGE_CHARS = 8 * 1024 * 1024;

const COLUMNS =
  "id, user_id, block_id, kind, op_type, op_data, before_state, after_state, ref_id, state, undone_by, timestamp, lsn";
const INSERT = `INSERT INTO operations (user_id, block_id, kind, op_type, op_data, before_state, after_state,
  ref_id, state, timestamp, lsn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;

export interface NewOperation {
  userId: string;
  blockId: string | null;
  kind: OpKind;
  opType: OpType | null;
  data: unknown;
  before: BlockRow[] | null;
  after: BlockRow[] | null;
  refId?: number;
  timestamp: number;
  lsn: number;
}

/** The operation log: the record of every change, the per-user undo and redo stacks, sync by LSN. */
export class OperationLog {
  readonly #query: Query;

  constructor(query: Query) {
    this.#query = query;
  }

  /** Append a row; an edit enters its user's undo stack and empties their redo stack. */
  append(op: NewOperation): number {
    if (op.kind === "edit")
      this.#query("UPDATE operations SET state = 'dropped' WHERE user_id = ? AND state = 'undone'", [
        op.userId,
      ]);
    const [row] = this.#query<{ id: number }>(INSERT, [
      op.userId,
      op.blockId,
      op.kind,
      op.opType,
      JSON.stringify(op.data),
      op.before === null ? null : JSON.stringify(op.before),
      op.after === null ? null : JSON.stringify(op.after),
      op.refId ?? null,
      op.kind === "edit" ? "done" : null,
      op.timestamp,
      op.lsn,
    ]);
    return row.id;
  }

  /** The user's newest edit still applied (the one undo reverts). */
  lastDone(userId: string): OperationRow | undefined {
    return this.#query<OperationRow>(
      `SELECT ${COLUMNS} FROM operations WHERE user_id = ? AND state = 'done' ORDER BY id DESC LIMIT 1`,
      [userId],
    )[0];
  }

  /** The user's most recently undone edit (the one redo re-applies). */
  lastUndone(userId: string): OperationRow | undefined {
    return this.#query<OperationRow>(
      `SELECT ${COLUMNS} FROM operations WHERE user_id = ? AND state = 'undone' ORDER BY undone_by DESC LIMIT 1`,
      [userId],
    )[0];
  }

  markUndone(id: number, undoId: number): void {
    this.#query("UPDATE operations SET state = 'undone', undone_by = ? WHERE id = ?", [undoId, id]);
  }

  markDone(id: number): void {
    this.#query("UPDATE operations SET state = 'done', undone_by = NULL WHERE id = ?", [id]);
  }

  /** Out of both stacks (its undo or redo conflicted). */
  drop(id: number): void {
    this.#query("UPDATE operations SET state = 'dropped' WHERE id = ?", [id]);
  }

  /**
   * The first change after row `afterId` that touched one of `blockIds` by someone other than
   * `userId`, or any restore/merge.
   */
  conflictAfter(afterId: number, blockIds: readonly string[], userId: string): OperationRow | undefined {
    const [edit] = this.#query<OperationRow>(
      `SELECT ${COLUMNS} FROM operations WHERE block_id IN (SELECT value FROM json_each(?)) AND id > ? AND user_id != ?
       ORDER BY id LIMIT 1`,
      [JSON.stringify(blockIds), afterId, userId],
    );
    const [whole] = this.#query<OperationRow>(
      `SELECT ${COLUMNS} FROM operations WHERE id > ? AND kind IN ('restore', 'merge') ORDER BY id LIMIT 1`,
      [afterId],
    );
    if (!edit) return whole;
    if (!whole) return edit;
    return edit.id < whole.id ? edit : whole;
  }

  /** The newest entry at or before `lsn`: the entries after it changed the blocks after `lsn`. */
  lastIdAt(lsn: number): number {
    return this.#query<{ id: number }>(
      `SELECT coalesce((SELECT min(id) FROM operations WHERE lsn > ?) - 1, (SELECT max(id) FROM operations), 0)
       AS id`,
      [lsn],
    )[0].id;
  }

  /** Rows with a change after `lsn`, oldest first, at most `limit` (+1 to tell there are more). */
  since(lsn: number, limit: number): OperationRow[] {
    return this.#query<OperationRow>(`SELECT ${COLUMNS} FROM operations WHERE lsn > ? ORDER BY id LIMIT ?`, [
      lsn,
      limit + 1,
    ]);
  }

  /**
   * Newest first, at most `limit` entries and MAX_PAGE_CHARS of text (at least one entry);
   * `next` is the `before` of the following page, null when no older entry is left.
   */
  page(limit: number, before: number | undefined): { history: HistoryEntry[]; next: number | null } {
    const top = before ?? Number.MAX_SAFE_INTEGER;
    const sizes = this.#query<{ id: number; size: number }>(
      `SELECT id, length(op_data) + coalesce(length(before_state), 0) + coalesce(length(after_state), 0) AS size
       FROM operations WHERE id < ? ORDER BY id DESC LIMIT ?`,
      [top, limit + 1],
    );
    let taken = 0;
    for (let chars = 0; taken < Math.min(limit, sizes.length); taken++) {
      chars += sizes[taken].size;
      if (taken > 0 && chars > MAX_PAGE_CHARS) break;
    }
    const rows = this.#query<OperationRow>(
      `SELECT ${COLUMNS} FROM operations WHERE id < ? ORDER BY id DESC LIMIT ?`,
      [top, taken],
    );
    const next = taken < sizes.length ? rows[taken - 1].id : null;
    return { history: rows.map(toEntry), next };
  }
}

function toEntry(r: OperationRow): HistoryEntry {
  return {
    id: r.id,
    userId: r.user_id,
    blockId: r.block_id,
    kind: r.kind,
    opType: r.op_type,
    operation: JSON.parse(r.op_data),
    before: r.before_state === null ? null : JSON.parse(r.before_state),
    after: r.after_state === null ? null : JSON.parse(r.after_state),
    refId: r.ref_id,
    state: r.state,
    timestamp: r.timestamp,
    lsn: r.lsn,
  };
}

export function rowsOf(text: string | null): BlockRow[] | null {
  return text === null ? null : (JSON.parse(text) as BlockRow[]);
}
