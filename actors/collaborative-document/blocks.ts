import type { BlockType } from "./schema";

/** A block row as SQLite holds it (content and properties are JSON text). */
export interface BlockRow {
  id: string;
  parent_id: string | null;
  type: BlockType;
  content: string | null;
  properties: string | null;
  position: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** A block as clients see it. */
export interface Block {
  id: string;
  parentId: string | null;
  type: BlockType;
  content: unknown;
  properties: Record<string, unknown> | null;
  position: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export type Query = <T>(sql: string, params?: unknown[]) => T[];

const COLUMNS = "id, parent_id, type, content, properties, position, created_by, created_at, updated_at";
/** Every block, parents before children (the order a client can apply them in), siblings by position. */
const ALL_BLOCKS = `WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 0 FROM blocks WHERE parent_id IS NULL
    UNION ALL SELECT b.id, tree.depth + 1 FROM blocks b JOIN tree ON b.parent_id = tree.id)
  SELECT b.id, b.parent_id, b.type, b.content, b.properties, b.position, b.created_by, b.created_at, b.updated_at
  FROM blocks b JOIN tree ON tree.id = b.id ORDER BY tree.depth, b.parent_id, b.position, b.id`;
const SUBTREE = `WITH RECURSIVE tree(id, depth) AS (
    SELECT id, 0 FROM blocks WHERE id = ?
    UNION ALL SELECT b.id, tree.depth + 1 FROM blocks b JOIN tree ON b.parent_id = tree.id)
  SELECT b.id, b.parent_id, b.type, b.content, b.properties, b.position, b.created_by, b.created_at, b.updated_at
  FROM blocks b JOIN tree ON tree.id = b.id ORDER BY tree.depth, b.position, b.id`;
const ANCESTORS = `WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT b.parent_id FROM blocks b JOIN up ON b.id = up.id
  WHERE b.parent_id IS NOT NULL) SELECT 1 AS hit FROM up WHERE id = ? LIMIT 1`;
const INSERT = `INSERT INTO blocks (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const SET = `UPDATE blocks SET parent_id = ?, type = ?, content = ?, properties = ?, position = ?, updated_at = ?
  WHERE id = ?`;

/** The block table of one document: reads and the four writes every change is made of. */
export class Blocks {
  readonly #query: Query;

  constructor(query: Query) {
    this.#query = query;
  }

  get(id: string): BlockRow | undefined {
    return this.#query<BlockRow>(`SELECT ${COLUMNS} FROM blocks WHERE id = ?`, [id])[0];
  }

  exists(id: string): boolean {
    return this.#query("SELECT 1 FROM blocks WHERE id = ?", [id]).length > 0;
  }

  all(): BlockRow[] {
    return this.#query<BlockRow>(ALL_BLOCKS);
  }

  count(): number {
    return this.#query<{ n: number }>("SELECT count(*) AS n FROM blocks")[0].n;
  }

  /** The block and its descendants, parents first. */
  subtree(id: string): BlockRow[] {
    return this.#query<BlockRow>(SUBTREE, [id]);
  }

  /** Is `ancestor` the block `id` itself or one of its ancestors? */
  isSelfOrAncestor(ancestor: string, id: string): boolean {
    return this.#query(ANCESTORS, [id, ancestor]).length > 0;
  }

  /** After the last sibling under `parentId`. */
  nextPosition(parentId: string | null): number {
    const [row] = this.#query<{ p: number | null }>(
      "SELECT max(position) AS p FROM blocks WHERE parent_id IS ?",
      [parentId],
    );
    return (row?.p ?? 0) + 1;
  }

  insert(row: BlockRow): void {
    this.#query(INSERT, [
      row.id,
      row.parent_id,
      row.type,
      row.content,
      row.properties,
      row.position,
      row.created_by,
      row.created_at,
      row.updated_at,
    ]);
  }

  /** Put the row's movable and editable columns as given. */
  set(row: BlockRow): void {
    this.#query(SET, [
      row.parent_id,
      row.type,
      row.content,
      row.properties,
      row.position,
      row.updated_at,
      row.id,
    ]);
  }

  /** Delete the block (its descendants go with it: ON DELETE CASCADE). */
  delete(id: string): void {
    this.#query("DELETE FROM blocks WHERE id = ?", [id]);
  }
}

/** Same content, type, place: a change between them would write nothing. */
export function sameBlock(a: BlockRow, b: BlockRow): boolean {
  return (
    a.parent_id === b.parent_id &&
    a.type === b.type &&
    a.content === b.content &&
    a.properties === b.properties &&
    a.position === b.position
  );
}

export function toBlock(row: BlockRow): Block {
  return {
    id: row.id,
    parentId: row.parent_id,
    type: row.type,
    content: row.content === null ? null : JSON.parse(row.content),
    properties: row.properties === null ? null : JSON.parse(row.properties),
    position: row.position,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** JSON text of a value for a column, or null for null/undefined. */
export function jsonText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
