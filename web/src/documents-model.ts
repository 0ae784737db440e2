// The document as this window knows it: its blocks and who else is here, changed only by the
// frames the actor sends (init, refresh, operation, ack, undo, redo, presence).
import type { AppliedOperation, Block, PresenceEntry } from "./documents-types";

export type Peer = Pick<PresenceEntry, "userId" | "userName" | "cursorBlockId" | "cursorOffset">;

export class DocumentModel {
  readonly blocks = new Map<string, Block>();
  readonly peers = new Map<string, Peer>();
  lsn = 0;

  /** Replace every block (the last page of an `init` or `refresh`). */
  reset(blocks: Block[], lsn: number) {
    this.blocks.clear();
    for (const b of blocks) this.blocks.set(b.id, b);
    this.lsn = lsn;
  }

  /** An edit as the actor applied it (an `operation` frame, or the `operation` of our `ack`). */
  apply(op: AppliedOperation, by: string) {
    const old = this.blocks.get(op.blockId);
    switch (op.type) {
      case "insert":
        this.blocks.set(op.blockId, {
          id: op.blockId,
          parentId: op.parentId,
          type: op.blockType as Block["type"],
          content: op.content,
          properties: op.properties,
          position: op.position,
          createdBy: by,
          createdAt: Date.now(),
          updatedAt: Date.now(),
        });
        break;
      case "update":
        if (old)
          this.blocks.set(op.blockId, {
            ...old,
            content: op.content,
            properties: op.properties,
            type: op.blockType as Block["type"],
          });
        break;
      case "move":
        if (old) this.blocks.set(op.blockId, { ...old, parentId: op.parentId, position: op.position });
        break;
      case "delete":
        this.remove(op.blockId);
        break;
    }
  }

  /** An undo or redo: remove `deleted` with their subtrees, upsert `blocks`. */
  effect(blocks: Block[], deleted: string[]) {
    for (const id of deleted) this.remove(id);
    for (const b of blocks) this.blocks.set(b.id, b);
  }

  remove(id: string) {
    this.blocks.delete(id);
    for (const b of [...this.blocks.values()]) if (b.parentId === id) this.remove(b.id);
  }

  /** Every block in reading order: parents before their children, siblings by position. */
  ordered(): { block: Block; depth: number }[] {
    return inReadingOrder([...this.blocks.values()]);
  }
}

export function inReadingOrder(blocks: Block[]): { block: Block; depth: number }[] {
  const children = new Map<string | null, Block[]>();
  for (const b of blocks) {
    const key = b.parentId !== null && blocks.some((p) => p.id === b.parentId) ? b.parentId : null;
    children.set(key, [...(children.get(key) ?? []), b]);
  }
  const out: { block: Block; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    const kids = (children.get(parent) ?? []).sort(
      (a, b) => a.position - b.position || (a.id < b.id ? -1 : 1),
    );
    for (const block of kids) {
      out.push({ block, depth });
      walk(block.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

/** The text a block shows: `content.text`, or the content itself when it is a string. */
export function textOf(block: Block): string {
  const c = block.content as { text?: unknown } | string | null;
  if (typeof c === "string") return c;
  return typeof c?.text === "string" ? c.text : "";
}
