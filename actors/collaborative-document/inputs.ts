import * as z from "zod/mini";
import { NAME_PATTERN } from "../../src/coordinator/validate";
import { parseDuration } from "../../src/duration";
import { isoDateTime } from "../../src/iso-input";
import { BLOCK_TYPES, ROLES } from "./schema";

/** Block ids are chosen by clients (so an insert can be referenced before its answer arrives). */
export const BLOCK_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const MAX_HISTORY = 1000;
/** A reconnecting client that missed more operations than this gets a `refresh` instead. */
export const MAX_SYNC_OPERATIONS = 1000;

const blockId = z
  .string()
  .check(z.regex(BLOCK_ID_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ : -"));
const parentId = z.optional(z.nullable(blockId));
const position = z.number().check(z.refine(Number.isFinite, "must be a finite number"));
const blockType = z.optional(z.enum(BLOCK_TYPES));
/** Any JSON value (frames are parsed JSON already); its size is bounded by the frame size. */
const content = z.optional(z.unknown());
const properties = z.optional(z.nullable(z.record(z.string(), z.unknown())));
/** The LSN of the client's copy an update, move or delete was made on (see #checkBase). */
const baseLsn = z.optional(z.int().check(z.gte(0)));
const replyId = z.optional(z.union([z.string().check(z.maxLength(128)), z.number()]));
/** A change's own id, chosen by the client and unique per user: sent again, it applies nothing. */
const opId = z.optional(z.string().check(z.minLength(1), z.maxLength(128)));

export const insertOp = z.object({
  type: z.literal("insert"),
  blockId,
  parentId,
  position: z.optional(position),
  content,
  properties,
  blockType,
});
export const updateOp = z
  .object({ type: z.literal("update"), blockId, content, properties, blockType, baseLsn })
  .check(
    z.refine(
      (op) => op.content !== undefined || op.properties !== undefined || op.blockType !== undefined,
      "an update changes content, properties or blockType",
    ),
  );
export const deleteOp = z.object({ type: z.literal("delete"), blockId, baseLsn });
export const moveOp = z.object({ type: z.literal("move"), blockId, parentId, position, baseLsn });

export const operationInput = z.discriminatedUnion("type", [insertOp, updateOp, deleteOp, moveOp]);
export type OperationInput = z.infer<typeof operationInput>;

export const presenceInput = z.object({
  cursorBlockId: z.optional(z.nullable(blockId)),
  cursorOffset: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(1e9)))),
  selection: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});
export type PresenceInput = z.infer<typeof presenceInput>;

const empty = z.optional(z.object({}));

/** Every frame a client may send: `{ type, data, id? }` (DESIGN.md §4). */
export const clientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("operation"), data: operationInput, id: replyId, opId }),
  z.object({ type: z.literal("presence"), data: presenceInput, id: replyId }),
  z.object({ type: z.literal("undo"), data: empty, id: replyId, opId }),
  z.object({ type: z.literal("redo"), data: empty, id: replyId, opId }),
  z.object({
    type: z.literal("sync"),
    data: z.object({ sinceLsn: z.int().check(z.gte(0)) }),
    id: replyId,
  }),
]);
export type ClientFrame = z.infer<typeof clientFrame>;

const userId = z.string().check(z.minLength(1), z.maxLength(128));

/** Who calls an HTTP method, as the coordinator verified it: `admin` is the deployment's admin (or dev mode). */
export const callerInput = z.object({
  userId,
  userName: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  admin: z.optional(z.boolean()),
});
export type CallerInput = z.input<typeof callerInput>;

export const historyInput = z.object({
  limit: z.optional(z.int().check(z.gte(1), z.lte(MAX_HISTORY))),
  /** Page backwards: only operations with an id below this one. */
  before: z.optional(z.int().check(z.gte(1))),
});
export type HistoryInput = z.input<typeof historyInput>;

/** A moment that has passed: an ISO-8601 date-time (with offset or Z) or epoch milliseconds. */
export const pastTimestamp = z
  .union([isoDateTime(), z.int().check(z.gte(0), z.lte(8.64e15))])
  .check(
    z.refine(
      (value) => (typeof value === "number" ? value : Date.parse(value)) <= Date.now(),
      "must not be in the future",
    ),
  );

export const restoreInput = z.object({ timestamp: pastTimestamp });
export type RestoreInput = z.input<typeof restoreInput>;

const documentName = z
  .string()
  .check(z.regex(NAME_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 . _ - (not . or ..)"));

export const branchInput = z.object({ name: documentName });
export type BranchInput = z.input<typeof branchInput>;

export const mergeInput = z.object({
  branch: documentName,
  onConflict: z.optional(z.enum(["fail", "ours", "theirs"])),
});
export type MergeInput = z.input<typeof mergeInput>;

export const grantInput = z.object({ userId, role: z.enum(ROLES) });
export type GrantInput = z.input<typeof grantInput>;

/** An age like "30d" or "1h", or milliseconds. */
const age = z.union([
  z.string().check(z.refine((s) => parseDuration(s) !== undefined, 'must be an age like "7d" or "12h"')),
  z.int().check(z.gte(1), z.lte(8.64e15)),
]);

/** How long the operation log (by age and count) and the opId answers are kept; omitted: unchanged. */
export const retentionInput = z.strictObject({
  log: z.optional(age),
  maxLogEntries: z.optional(z.int().check(z.gte(1), z.lte(10_000_000))),
  clientOps: z.optional(age),
});
export type RetentionInput = z.input<typeof retentionInput>;
