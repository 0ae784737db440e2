import { utf8Length } from "../../src/json";
import type { Block } from "./blocks";

/**
 * Frames from the actor are JSON `{ type, data }` (DESIGN.md §4). A large block list (init,
 * refresh) is sent in pages of at most PAGE_BYTES, each `{ …, blocks, page, pages }`, so a
 * 10,000-block document never meets the WebSocket message limit (1 MiB).
 */
export const PAGE_BYTES = 256 * 1024;

export function frame(type: string, data: unknown): string {
  return JSON.stringify({ type, data });
}

/** The block list split into pages of at most `maxBytes` of JSON each (at least one page). */
export function pageBlocks(blocks: Block[], maxBytes = PAGE_BYTES): Block[][] {
  const pages: Block[][] = [];
  let page: Block[] = [];
  let bytes = 0;
  for (const block of blocks) {
    const size = utf8Length(JSON.stringify(block)) + 1;
    if (page.length > 0 && bytes + size > maxBytes) {
      pages.push(page);
      page = [];
      bytes = 0;
    }
    page.push(block);
    bytes += size;
  }
  pages.push(page);
  return pages;
}

/** `init` or `refresh` frames: `extra` (presence, lsn, …) on every page. */
export function pagedFrames(
  type: "init" | "refresh",
  blocks: Block[],
  extra: Record<string, unknown>,
): string[] {
  const pages = pageBlocks(blocks);
  return pages.map((page, i) => frame(type, { ...extra, blocks: page, page: i, pages: pages.length }));
}
