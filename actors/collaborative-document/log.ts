import { utf8Length } from "../../src/json";
import { type BlockRow, type Query, toBlock } from "./blocks";
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

/**
 * DO SQLite holds at most 2 MB in one row, string or BLOB (developers.cloudflare.com/durable-objects/
 * platform/limits). The block rows of an operation whose JSON is larger than this (a delete of a
 * large subtree, its undo) go to `operation_parts` in pieces of at most this many bytes each (a
 * piece holds at least one row: one block row is far smaller, a frame being at most 256 KiB).
 */
export const LOG_PIECE_BYTES = 1_000_000;

const COLUMNS =
  "id, user_id, block_id, kind, op_type, op_data, before_state, after_state, ref_id, state, undone_by, timestamp, lsn";
/** An entry as sync reads it: the block rows are not needed (an undo's blocks kept apart are read by data()). */
const SYNC_COLUMNS =
  "id, user_id, block_id, kind, op_type, op_data, NULL AS before_state, NULL AS after_state, ref_id, state, undone_by, timestamp, lsn";
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
    const before = inline(op.before);
    const after = inline(op.after);
    const [row] = this.#query<{ id: number }>(INSERT, [
      op.userId,
      op.blockId,
      op.kind,
      op.opType,
      JSON.stringify(compactData(op.data, op.after, after)),
      before,
      after,
      op.refId ?? null,
      op.kind === "edit" ? "done" : null,
      op.timestamp,
      op.lsn,
    ]);
    if (op.before !== null && before === null) this.#writeParts(row.id, "before", op.before);
    if (op.after !== null && after === null) this.#writeParts(row.id, "after", op.after);
    return row.id;
  }

  /** The rows in pieces of at most LOG_PIECE_BYTES of JSON, one statement each. */
  #writeParts(id: number, side: "before" | "after", rows: BlockRow[]): void {
    let part = 0;
    let piece: string[] = [];
    let size = 2;
    const flush = () => {
      this.#query("INSERT INTO operation_parts (op_id, side, part, rows) VALUES (?, ?, ?, ?)", [
        id,
        side,
        part++,
        `[${piece.join(",")}]`,
      ]);
      piece = [];
      size = 2;
    };
    for (const row of rows) {
      const text = JSON.stringify(row);
      const bytes = utf8Length(text) + 1;
      if (piece.length > 0 && size + bytes > LOG_PIECE_BYTES) flush();
      piece.push(text);
      size += bytes;
    }
    if (piece.length > 0) flush();
  }

  /** The block rows before or after an operation (null: none), from its row or its pieces. */
  rows(
    op: Pick<OperationRow, "id" | "before_state" | "after_state">,
    side: "before" | "after",
  ): BlockRow[] | null {
    const text = side === "before" ? op.before_state : op.after_state;
    if (text !== null) return JSON.parse(text) as BlockRow[];
    const parts = this.#query<{ rows: string }>(
      "SELECT rows FROM operation_parts WHERE op_id = ? AND side = ? ORDER BY part",
      [op.id, side],
    );
    if (parts.length === 0) return null;
    return parts.flatMap((p) => JSON.parse(p.rows) as BlockRow[]);
  }

  /** The operation as applied and broadcast (an undo or redo of a large subtree keeps its blocks apart). */
  data(op: OperationRow): Record<string, unknown> {
    const data = JSON.parse(op.op_data) as Record<string, unknown>;
    if (data.blocksInAfter === true) {
      delete data.blocksInAfter;
      data.blocks = (this.rows(op, "after") ?? []).map(toBlock);
    }
    return data;
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
   * The first change after row `afterId` that touched block `blockId` (with `subtree`, any block now
   * in its subtree too) by someone other than `userId`, or any restore/merge. The subtree is read in
   * the statement itself: its ids are never bound as one (perhaps oversized) string.
   */
  conflictAfter(
    afterId: number,
    blockId: string,
    subtree: boolean,
    userId: string,
  ): OperationRow | undefined {
    const [edit] = this.#query<OperationRow>(
      subtree
        ? `WITH RECURSIVE tree(id) AS (SELECT id FROM blocks WHERE id = ?
             UNION ALL SELECT b.id FROM blocks b JOIN tree ON b.parent_id = tree.id)
           SELECT ${COLUMNS} FROM operations WHERE (block_id = ? OR block_id IN (SELECT id FROM tree))
             AND id > ? AND user_id != ? ORDER BY id LIMIT 1`
        : `SELECT ${COLUMNS} FROM operations WHERE block_id = ? AND id > ? AND user_id != ? ORDER BY id LIMIT 1`,
      subtree ? [blockId, blockId, afterId, userId] : [blockId, afterId, userId],
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

  /**
   * Rows with a change after `lsn`, oldest first, without their block rows (sync sends op_data),
   * or null when there are more than `limit` of them or their frames hold more than `maxChars`:
   * they are all held in memory at once (an isolate has 128 MB), so the caller sends a refresh.
   */
  since(lsn: number, limit: number, maxChars: number): OperationRow[] | null {
    const [size] = this.#query<{ n: number; chars: number }>(
      `SELECT count(*) AS n, coalesce(sum(length(op_data)
         + coalesce((SELECT sum(length(rows)) FROM operation_parts p WHERE p.op_id = o.id AND p.side = 'after'), 0)), 0) AS chars
       FROM (SELECT id, op_data FROM operations WHERE lsn > ? ORDER BY id LIMIT ?) o`,
      [lsn, limit + 1],
    );
    if (size.n > limit || size.chars > maxChars) return null;
    return this.#query<OperationRow>(`SELECT ${SYNC_COLUMNS} FROM operations WHERE lsn > ? ORDER BY id`, [
      lsn,
    ]);
  }

  /**
   * Newest first, at most `limit` entries and MAX_PAGE_CHARS of text (at least one entry);
   * `next` is the `before` of the following page, null when no older entry is left.
   */
  page(limit: number, before: number | undefined): { history: HistoryEntry[]; next: number | null } {
    const top = before ?? Number.MAX_SAFE_INTEGER;
    const sizes = this.#query<{ id: number; size: number }>(
      `SELECT id, length(op_data) + coalesce(length(before_state), 0) + coalesce(length(after_state), 0)
         + coalesce((SELECT sum(length(rows)) FROM operation_parts WHERE op_id = operations.id), 0) AS size
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
    return { history: rows.map((r) => this.#entry(r)), next };
  }

  #entry(r: OperationRow): HistoryEntry {
    return {
      id: r.id,
      userId: r.user_id,
      blockId: r.block_id,
      kind: r.kind,
      opType: r.op_type,
      operation: this.data(r),
      before: this.rows(r, "before"),
      after: this.rows(r, "after"),
      refId: r.ref_id,
      state: r.state,
      timestamp: r.timestamp,
      lsn: r.lsn,
    };
  }
}

/** The rows' JSON for the operations row, or null when there are none or it is too large for one. */
function inline(rows: BlockRow[] | null): string | null {
  if (rows === null) return null;
  const text = JSON.stringify(rows);
  return utf8Length(text) <= LOG_PIECE_BYTES ? text : null;
}

/**
 * The `op_data` to store: an undo or redo that brought back a large subtree has `blocks` equal to
 * the rows after it, which are stored in pieces: op_data says so instead of holding them again.
 */
function compactData(data: unknown, after: BlockRow[] | null, afterInline: string | null): unknown {
  if (after === null || afterInline !== null || typeof data !== "object" || data === null) return data;
  if (!("blocks" in data)) return data;
  const { blocks: _, ...rest } = data as Record<string, unknown>;
  return { ...rest, blocksInAfter: true };
}
