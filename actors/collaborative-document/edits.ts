import { type Block, type BlockRow, type Blocks, jsonText, sameBlock, toBlock } from "./blocks";
import { blockExists, blockNotFound, invalidMove, parentNotFound } from "./errors";
import type { OperationInput } from "./inputs";
import type { OpType } from "./schema";

/** An edit as applied and broadcast (`operation` frames carry this plus userId, operationId, lsn). */
export type AppliedOperation =
  | {
      type: "insert";
      blockId: string;
      parentId: string | null;
      position: number;
      content: unknown;
      properties: Record<string, unknown> | null;
      blockType: string;
    }
  | {
      type: "update";
      blockId: string;
      content: unknown;
      properties: Record<string, unknown> | null;
      blockType: string;
    }
  | { type: "delete"; blockId: string }
  | { type: "move"; blockId: string; parentId: string | null; position: number };

/** What one edit changed: the rows before and after (delete: the whole subtree before). */
export interface EditResult {
  opType: OpType;
  blockId: string;
  before: BlockRow[] | null;
  after: BlockRow[] | null;
  applied: AppliedOperation;
}

/** What an undo or redo changed, as clients apply it: upsert `blocks` (parents first), remove `deleted`. */
export interface Effect {
  blocks: Block[];
  deleted: string[];
}

/**
 * Apply one client edit inside the caller's transaction, or throw a typed error (the transaction
 * then rolls back: nothing is applied). Returns null when the edit would change nothing.
 */
export function applyEdit(
  blocks: Blocks,
  op: OperationInput,
  userId: string,
  now: number,
): EditResult | null {
  switch (op.type) {
    case "insert": {
      if (blocks.exists(op.blockId)) throw blockExists(op.blockId);
      const parentId = op.parentId ?? null;
      if (parentId !== null && !blocks.exists(parentId)) throw parentNotFound(parentId);
      const row: BlockRow = {
        id: op.blockId,
        parent_id: parentId,
        type: op.blockType ?? "paragraph",
        content: jsonText(op.content),
        properties: jsonText(op.properties),
        position: op.position ?? blocks.nextPosition(parentId),
        created_by: userId,
        created_at: now,
        updated_at: now,
      };
      blocks.insert(row);
      const block = toBlock(row);
      return {
        opType: "insert",
        blockId: row.id,
        before: null,
        after: [row],
        applied: {
          type: "insert",
          blockId: row.id,
          parentId,
          position: row.position,
          content: block.content,
          properties: block.properties,
          blockType: row.type,
        },
      };
    }
    case "update": {
      const before = blocks.get(op.blockId);
      if (!before) throw blockNotFound(op.blockId);
      const after: BlockRow = {
        ...before,
        type: op.blockType ?? before.type,
        content: op.content === undefined ? before.content : jsonText(op.content),
        properties: op.properties === undefined ? before.properties : jsonText(op.properties),
        updated_at: now,
      };
      if (sameBlock(before, after)) return null;
      blocks.set(after);
      const block = toBlock(after);
      return {
        opType: "update",
        blockId: after.id,
        before: [before],
        after: [after],
        applied: {
          type: "update",
          blockId: after.id,
          content: block.content,
          properties: block.properties,
          blockType: after.type,
        },
      };
    }
    case "delete": {
      const subtree = blocks.subtree(op.blockId);
      if (subtree.length === 0) throw blockNotFound(op.blockId);
      blocks.delete(op.blockId);
      return {
        opType: "delete",
        blockId: op.blockId,
        before: subtree,
        after: null,
        applied: { type: "delete", blockId: op.blockId },
      };
    }
    case "move": {
      const before = blocks.get(op.blockId);
      if (!before) throw blockNotFound(op.blockId);
      const parentId = op.parentId ?? null;
      if (parentId !== null) {
        if (!blocks.exists(parentId)) throw parentNotFound(parentId);
        if (blocks.isSelfOrAncestor(op.blockId, parentId)) throw invalidMove(op.blockId, parentId);
      }
      const after: BlockRow = { ...before, parent_id: parentId, position: op.position, updated_at: now };
      if (sameBlock(before, after)) return null;
      blocks.set(after);
      return {
        opType: "move",
        blockId: after.id,
        before: [before],
        after: [after],
        applied: { type: "move", blockId: after.id, parentId, position: op.position },
      };
    }
  }
}

/** Why an undo or redo cannot be applied without overwriting someone else's work, or null. */
export type Refusal = { reason: string; blockId: string };

/**
 * Put the rows of an edit back to `target` (undo: its before state; redo: its after state),
 * from `current` (undo: its after state; redo: its before state). Returns the effect, or a
 * refusal when the block is not where the edit left it (checked here; the log check is the caller's).
 */
export function revert(
  blocks: Blocks,
  opType: OpType,
  blockId: string,
  target: BlockRow[] | null,
  userId: string,
  now: number,
): Effect | Refusal {
  // The edit created or re-created rows that must now go away (undo an insert, redo a delete).
  if (target === null) {
    const subtree = blocks.subtree(blockId);
    if (subtree.length === 0) return { reason: "the block no longer exists", blockId };
    const others = subtree.find((row) => row.created_by !== userId);
    if (others) return { reason: `${others.created_by} added block ${others.id} inside it`, blockId };
    blocks.delete(blockId);
    return { blocks: [], deleted: [blockId] };
  }
  // The rows must come back (undo a delete, redo an insert).
  if (opType === "delete" || opType === "insert") {
    const [top] = target;
    for (const row of target)
      if (blocks.exists(row.id)) return { reason: `block ${row.id} exists again`, blockId: row.id };
    if (top.parent_id !== null && !blocks.exists(top.parent_id))
      return { reason: `its parent ${top.parent_id} no longer exists`, blockId: top.id };
    for (const row of target) blocks.insert(row);
    return { blocks: target.map(toBlock), deleted: [] };
  }
  // update or move: the one row back to its other state.
  const current = blocks.get(blockId);
  if (!current) return { reason: "the block no longer exists", blockId };
  const next: BlockRow = { ...target[0], created_at: current.created_at, updated_at: now };
  if (next.parent_id !== null) {
    if (!blocks.exists(next.parent_id))
      return { reason: `its parent ${next.parent_id} no longer exists`, blockId };
    if (blocks.isSelfOrAncestor(blockId, next.parent_id))
      return { reason: `it would move under its own descendant ${next.parent_id}`, blockId };
  }
  blocks.set(next);
  return { blocks: [toBlock(next)], deleted: [] };
}

export function isRefusal(value: Effect | Refusal): value is Refusal {
  return "reason" in value;
}
