import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
} from "drizzle-orm/sqlite-core";

/**
 * One CollaborativeDocument actor holds one document (its name). Times are epoch milliseconds
 * written by the actor. Only `blocks` is captured by history: restore, branch and merge act on
 * the blocks; the operation log is the document's own record (it keeps restores and merges too).
 */

export const BLOCK_TYPES = ["paragraph", "heading", "list", "code", "image", "table"] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

export const OP_TYPES = ["insert", "update", "delete", "move"] as const;
export type OpType = (typeof OP_TYPES)[number];

/** What an operations row records: a user's edit, the undo or redo of one, or a whole-document change. */
export const OP_KINDS = ["edit", "undo", "redo", "restore", "merge"] as const;
export type OpKind = (typeof OP_KINDS)[number];

export const ROLES = ["viewer", "editor", "admin"] as const;
export type DocumentRole = (typeof ROLES)[number];

/** The document's metadata: a single row, written when the first collaborator connects. */
export const documents = sqliteTable("documents", {
  id: text("id").primaryKey(),
  title: text("title").notNull().default("Untitled"),
  createdBy: text("created_by").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** Retention of the operation log by age (ms) and count, and of opId answers (ms); null: the default. */
  logRetainMs: integer("log_retain_ms"),
  logMaxEntries: integer("log_max_entries"),
  clientOpsRetainMs: integer("client_ops_retain_ms"),
  /**
   * The log is complete after this LSN only: entries up to it were pruned (or, on a branch made
   * before its copy was adopted, carry no LSN of this document). A sync or `baseLsn` from before it
   * cannot be answered from the log.
   */
  logFloorLsn: integer("log_floor_lsn").notNull().default(0),
});

/** Block-based content; `position` is a fractional index among siblings (same parent). */
export const blocks = sqliteTable(
  "blocks",
  {
    id: text("id").primaryKey(),
    parentId: text("parent_id").references((): AnySQLiteColumn => blocks.id, { onDelete: "cascade" }),
    type: text("type", { enum: BLOCK_TYPES }).notNull(),
    /** JSON. */
    content: text("content"),
    /** JSON object (formatting, …). */
    properties: text("properties"),
    position: real("position").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("blocks_type_known", sql`${t.type} IN ('paragraph', 'heading', 'list', 'code', 'image', 'table')`),
    index("idx_blocks_parent_position").on(t.parentId, t.position),
  ],
);

/**
 * The operation log: every applied change with the block rows before and after it (JSON), for
 * sync (by `lsn`), undo/redo and the history route. `state` is the undo stack of an edit:
 * `done`, `undone` (redo-able; `undone_by` is the undo's row), `dropped` (out of the stacks).
 */
export const operations = sqliteTable(
  "operations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id").notNull(),
    blockId: text("block_id"),
    kind: text("kind", { enum: OP_KINDS }).notNull(),
    opType: text("op_type", { enum: OP_TYPES }),
    /** The operation as applied and broadcast (JSON). */
    opData: text("op_data").notNull(),
    /** JSON array of the block rows before (delete: the whole subtree), or null. */
    beforeState: text("before_state"),
    /** JSON array of the block rows after, or null. */
    afterState: text("after_state"),
    /** For undo/redo rows: the edit they revert or re-apply. */
    refId: integer("ref_id"),
    state: text("state", { enum: ["done", "undone", "dropped"] }),
    undoneBy: integer("undone_by"),
    timestamp: integer("timestamp").notNull(),
    /** The history LSN after the change (0 when it wrote no block). */
    lsn: integer("lsn").notNull(),
  },
  (t) => [
    check("operations_kind_known", sql`${t.kind} IN ('edit', 'undo', 'redo', 'restore', 'merge')`),
    check(
      "operations_op_type_known",
      sql`${t.opType} IS NULL OR ${t.opType} IN ('insert', 'update', 'delete', 'move')`,
    ),
    index("idx_operations_block").on(t.blockId, t.id),
    index("idx_operations_lsn").on(t.lsn),
    index("idx_operations_user_state").on(t.userId, t.state, t.id),
  ],
);

/**
 * The block rows before or after an operation when their JSON is too large for one row (DO SQLite
 * holds at most 2 MB in a row or string): the rows in pieces of at most LOG_PIECE_BYTES each (a
 * JSON array of rows per piece, `part` 0, 1, …), the operations row's `before_state` / `after_state`
 * then null. Deleted with their operation.
 */
export const operationParts = sqliteTable(
  "operation_parts",
  {
    opId: integer("op_id")
      .notNull()
      .references(() => operations.id, { onDelete: "cascade" }),
    side: text("side", { enum: ["before", "after"] }).notNull(),
    part: integer("part").notNull(),
    /** JSON array of block rows. */
    rows: text("rows").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.opId, t.side, t.part] }),
    check("operation_parts_side_known", sql`${t.side} IN ('before', 'after')`),
  ],
);

/**
 * Changes a client named with an `opId` (unique per user), and the answer they got: the same
 * opId again (a retry after a lost answer) gets that answer, marked `duplicate`, and applies nothing.
 */
export const clientOps = sqliteTable(
  "client_ops",
  {
    userId: text("user_id").notNull(),
    opId: text("op_id").notNull(),
    /** JSON `{ type, data }`: the answer (`ack` with operationId and lsn, or `conflict`). */
    answer: text("answer").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.opId] }), index("idx_client_ops_at").on(t.at)],
);

/** Who is here: one row per connected user, cleared when their last socket closes and by a schedule. */
export const presence = sqliteTable("presence", {
  userId: text("user_id").primaryKey(),
  userName: text("user_name").notNull(),
  cursorBlockId: text("cursor_block_id"),
  cursorOffset: integer("cursor_offset"),
  /** JSON: { anchor, focus } or whatever the editor sends. */
  selection: text("selection"),
  lastSeen: integer("last_seen").notNull(),
});

/** Roles granted on this document; a user without a row is an editor (the creator is admin). */
export const permissions = sqliteTable(
  "permissions",
  {
    userId: text("user_id").primaryKey(),
    role: text("role", { enum: ROLES }).notNull(),
    grantedBy: text("granted_by").notNull(),
    grantedAt: integer("granted_at").notNull(),
  },
  (t) => [check("permissions_role_known", sql`${t.role} IN ('viewer', 'editor', 'admin')`)],
);
