import migrations from "../../migrations/collaborative-document/migrations.js";
import type { ActorConnection, ConnectionIdentity } from "../../src/broadcast";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { parseDuration } from "../../src/duration";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { history } from "../../src/history/index";
import type { MergeConflict } from "../../src/history/merge";
import { lastLsn } from "../../src/history/store";
import { caller as socketCaller, vouchedCaller } from "../../src/rpc/caller";
import { rpc } from "../../src/rpc/index";
import { SqlActor } from "../../src/sql-actor";
import { type Block, Blocks, type Query, toBlock } from "./blocks";
import { applyEdit, isRefusal, revert } from "./edits";
import { documentNotFound, notAllowed, staleBase, staleEdit } from "./errors";
import { frame, pageBlocks, pagedFrames } from "./frames";
import {
  type BranchInput,
  branchInput,
  type CallerInput,
  type ClientFrame,
  callerInput,
  clientFrame,
  type GrantInput,
  grantInput,
  type HistoryInput,
  historyInput,
  MAX_SYNC_OPERATIONS,
  type MergeInput,
  mergeInput,
  type OperationInput,
  type PresenceInput,
  type RestoreInput,
  type RetentionInput,
  restoreInput,
  retentionInput,
} from "./inputs";
import { type HistoryEntry, OperationLog } from "./log";
import type { DocumentRole } from "./schema";
import * as schema from "./schema";

/** Presence updates of one user within this window are sent once, with the latest cursor. */
export const PRESENCE_COALESCE_MS = 50;
/** How often presence rows of users with no open socket are cleared. */
export const PRESENCE_SWEEP_MS = 60_000;
const RANK: Record<DocumentRole, number> = { viewer: 0, editor: 1, admin: 2 };

/** Default retention: log entries 30 days (history's) and at most 10,000; opId answers 7 days. */
export const DEFAULT_RETENTION: Retention = {
  log: 30 * 86_400_000,
  maxLogEntries: 10_000,
  clientOps: 7 * 86_400_000,
};
/** A sync sends the missed changes when they hold at most this much JSON (else a refresh, paged). */
export const MAX_SYNC_CHARS = 8 * 1024 * 1024;
/** How often the log and the opId answers are pruned (the schedule `prune-log`). */
export const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per transaction, and per run (a run that leaves more schedules another in 1 s). */
const PRUNE_BATCH = 1_000;
const PRUNE_MAX_PER_RUN = 20_000;

/** How long the log and the opId answers are kept (ms; `maxLogEntries` entries at most). */
export interface Retention {
  log: number;
  maxLogEntries: number;
  clientOps: number;
}

export interface PruneResult {
  operations: number;
  clientOps: number;
  /** A sync or baseLsn from before this LSN gets a refresh or STALE_EDIT. */
  floorLsn: number;
  more: boolean;
}

export interface PresenceEntry {
  userId: string;
  userName: string;
  cursorBlockId: string | null;
  cursorOffset: number | null;
  selection: unknown;
  lastSeen: number;
}

/** A change a client asked for (an operation, undo or redo): who, the frame's id, its opId if any. */
interface Change {
  userId: string;
  id: string | number | undefined;
  opId: string | undefined;
}

/** What a connection keeps across hibernation besides its user: whether the deployment's admin opened it. */
interface ConnectionData {
  admin?: boolean;
}

/**
 * One collaborative document (the actor's name): blocks edited in real time over WebSockets by
 * many users, presence, per-user undo/redo, an operation log for sync, and the framework's
 * history under the blocks for restore to a time, branches and merges.
 *
 * Every edit is one transaction (the block change and its operations row with the rows before
 * and after), then broadcast; the actor orders concurrent edits (one at a time). Roles
 * (viewer, editor, admin) are checked on every frame and every method.
 */
export class CollaborativeDocument extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "CollaborativeDocument";
  static override config: ActorConfig<typeof schema> = defineActor({
    schema,
    migrations,
    messages: clientFrame,
    // The document sends its own `presence` frames (coalesced, with cursors), not the framework's.
    connections: { presence: false, maxMessageBytes: 256 * 1024 },
    history: history({ tables: ["blocks"], retain: "30d", binding: "COLLABORATIVE_DOCUMENT" }),
    // RPC on the socket (`{ id, method, args }`, beside the document's own frames): any member
    // reads; restore needs the document's admin, checked by the method as over HTTP.
    rpc: rpc({ methods: { blocks: "user", operationLog: "user", presenceList: "user", restore: "user" } }),
    fleet: fleet("documents"),
  });

  readonly #blocks: Blocks;
  readonly #log: OperationLog;
  /** Roles read from `permissions`, per user (cleared on every grant; lost on eviction, re-read). */
  readonly #roles = new Map<string, DocumentRole>();
  readonly #pendingPresence = new Map<string, PresenceEntry>();
  #presenceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether this document is known not to be a branch's copy waiting to be adopted (#adoptCopy). */
  #adopted = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const query: Query = (sql, params) => this.query(sql, params as never) as never;
    this.#blocks = new Blocks(query);
    this.#log = new OperationLog(query);
    if (this.#exists()) this.#scheduleSweep();
  }

  // ---- sockets ----

  /**
   * Who is connecting: what the coordinator vouched for (the token's user, or in development
   * mode `?userId=&userName=`), else `?userId=&userName=` as a Worker with the binding gave them.
   * The first connection creates the document, its user becomes its admin.
   */
  override async identify(request: Request): Promise<ConnectionIdentity> {
    const vouched = vouchedCaller(request);
    const params = new URL(request.url).searchParams;
    const userId = vouched?.userId ?? params.get("userId");
    if (!userId) throw new ActorError("VALIDATION_FAILED", "userId: required");
    const name = (vouched ? vouched.name : params.get("userName")) ?? userId;
    await this.#create(userId);
    const data: ConnectionData = vouched?.role === "admin" ? { admin: true } : {};
    return { userId, name, data: data as never };
  }

  override onJoin(connection: ActorConnection): void {
    const { userId, name } = this.#who(connection);
    const first = !this.#others(connection, userId);
    const now = Date.now();
    this.query(
      `INSERT INTO presence (user_id, user_name, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET user_name = excluded.user_name, last_seen = excluded.last_seen`,
      [userId, name, now],
    );
    const extra = {
      presence: this.#presenceList(),
      lsn: this.#lsn(),
      userId,
      role: this.#roleOf(connection),
    };
    for (const text of pagedFrames("init", this.#allBlocks(), extra)) this.connections.send(connection, text);
    if (first)
      this.broadcast(frame("presence", { action: "join", userId, userName: name }), { except: connection });
  }

  override onLeave(connection: ActorConnection): void {
    const { userId } = this.#who(connection);
    if (this.#others(connection, userId)) return;
    this.#pendingPresence.delete(userId);
    this.query("DELETE FROM presence WHERE user_id = ?", [userId]);
    this.broadcast(frame("presence", { action: "leave", userId }), { except: connection });
  }

  override onClientMessage(connection: ActorConnection, message: ClientFrame): void {
    if (message.type === "presence") this.#presence(connection, message.data);
    else if (message.type === "sync") this.#sync(connection, message.data.sinceLsn, message.id);
    else {
      const { userId } = this.#who(connection);
      this.#require(userId, this.#roleOf(connection), "editor");
      const change = { userId, id: message.id, opId: message.opId };
      if (this.#answeredBefore(connection, change)) return;
      if (message.type === "operation") this.#operation(connection, message.data, change);
      else this.#undoOrRedo(connection, message.type, change);
    }
  }

  /**
   * A change sent again with its opId (a retry after a lost answer, maybe on a new socket): the
   * answer it got the first time (`ack` or `conflict`), marked `duplicate`; nothing is applied again.
   */
  #answeredBefore(connection: ActorConnection, change: Change): boolean {
    if (change.opId === undefined) return false;
    const [row] = this.query<{ answer: string }>(
      "SELECT answer FROM client_ops WHERE user_id = ? AND op_id = ?",
      [change.userId, change.opId],
    );
    if (!row) return false;
    const { type, data } = JSON.parse(row.answer) as { type: string; data: Record<string, unknown> };
    this.connections.send(
      connection,
      frame(type, { id: change.id, ...data, opId: change.opId, duplicate: true }),
    );
    return true;
  }

  /** Inside the change's transaction: the answer a repeat of its opId gets. */
  #remember(change: Change, type: "ack" | "conflict", data: Record<string, unknown>): void {
    if (change.opId !== undefined)
      this.query("INSERT INTO client_ops (user_id, op_id, answer, at) VALUES (?, ?, ?, ?)", [
        change.userId,
        change.opId,
        JSON.stringify({ type, data }),
        Date.now(),
      ]);
  }

  #operation(connection: ActorConnection, op: OperationInput, change: Change): void {
    const { userId, id } = change;
    const now = Date.now();
    const outcome = this.transaction(
      () => {
        this.#checkBase(op, userId);
        const edit = applyEdit(this.#blocks, op, userId, now);
        if (!edit) {
          this.#remember(change, "ack", { operationId: null, lsn: this.#lsn(), noop: true });
          return null;
        }
        const lsn = this.#lsn();
        const operationId = this.#log.append({
          userId,
          blockId: edit.blockId,
          kind: "edit",
          opType: edit.opType,
          data: edit.applied,
          before: edit.before,
          after: edit.after,
          timestamp: now,
          lsn,
        });
        this.#remember(change, "ack", { operationId, lsn });
        return { ...edit.applied, userId, operationId, lsn };
      },
      { actor: userId },
    );
    if (!outcome) {
      this.connections.send(
        connection,
        frame("ack", { id, operationId: null, lsn: this.#lsn(), noop: true }),
      );
      return;
    }
    this.broadcast(frame("operation", outcome), { except: connection });
    this.connections.send(
      connection,
      frame("ack", { id, operationId: outcome.operationId, lsn: outcome.lsn, operation: outcome }),
    );
  }

  /**
   * An update, move or delete with `baseLsn` was made on the block as the client had it at that
   * LSN: refused (STALE_EDIT) when someone else changed the block since (for a delete, any block of
   * its subtree), or a restore or merge came between; so it never overwrites what they did unseen.
   */
  #checkBase(op: OperationInput, userId: string): void {
    if (op.type === "insert" || op.baseLsn === undefined) return;
    // The entries after baseLsn are not all kept: whether someone changed the block is unknown.
    const floor = this.#floorLsn();
    if (op.baseLsn < floor) throw staleBase(op.blockId, op.baseLsn, floor);
    const clash = this.#log.conflictAfter(
      this.#log.lastIdAt(op.baseLsn),
      op.blockId,
      op.type === "delete",
      userId,
    );
    if (clash) throw staleEdit(op.blockId, op.baseLsn, clash);
  }

  /**
   * Undo the user's newest applied edit, or redo their most recently undone one. When someone
   * else changed the block since (or a restore or merge came between), nothing is written to the
   * blocks: the user gets a `conflict` frame and the edit leaves their stack.
   */
  #undoOrRedo(connection: ActorConnection, action: "undo" | "redo", change: Change): void {
    const { userId, id } = change;
    const now = Date.now();
    const outcome = this.transaction(
      () => {
        const op = action === "undo" ? this.#log.lastDone(userId) : this.#log.lastUndone(userId);
        if (!op || op.op_type === null || op.block_id === null) return null;
        const since = action === "undo" ? op.id : op.undone_by!;
        const target = this.#log.rows(op, action === "undo" ? "before" : "after");
        // Undoing an insert (or redoing a delete) removes the block's whole subtree as it is now:
        // an edit by someone else to any block in it (or a block they moved in) is a clash.
        const clash = this.#log.conflictAfter(since, op.block_id, target === null, userId);
        const effect = clash
          ? { reason: `changed since by ${clash.user_id} (${clash.kind})`, blockId: op.block_id }
          : revert(this.#blocks, op.op_type, op.block_id, target, userId, now);
        if (isRefusal(effect)) {
          this.#log.drop(op.id);
          const conflict = {
            action,
            operationId: op.id,
            blockId: effect.blockId,
            reason: effect.reason,
            conflictingOperationId: clash?.id ?? null,
            conflictingUserId: clash?.user_id ?? null,
          };
          this.#remember(change, "conflict", conflict);
          return { conflict };
        }
        const lsn = this.#lsn();
        const data = { operationId: op.id, ...effect };
        const rowId = this.#log.append({
          userId,
          blockId: op.block_id,
          kind: action,
          opType: op.op_type,
          data,
          before: this.#log.rows(op, action === "undo" ? "after" : "before"),
          after: target,
          refId: op.id,
          timestamp: now,
          lsn,
        });
        if (action === "undo") this.#log.markUndone(op.id, rowId);
        else this.#log.markDone(op.id);
        this.#remember(change, "ack", { operationId: op.id, [`${action}Id`]: rowId, lsn });
        return { applied: { ...data, userId, [`${action}Id`]: rowId, lsn } };
      },
      { actor: `${action}:${userId}` },
    );
    if (!outcome)
      throw new ActorError(
        action === "undo" ? "NOTHING_TO_UNDO" : "NOTHING_TO_REDO",
        `${userId} has nothing to ${action}`,
      );
    if ("conflict" in outcome) {
      this.connections.send(connection, frame("conflict", { id, ...outcome.conflict }));
      return;
    }
    this.broadcast(frame(action, { id, ...outcome.applied }));
  }

  /**
   * A reconnecting client: every operation after `sinceLsn` as it was broadcast, then `synced`.
   * After a restore or merge (or too many missed operations, or an LSN this document never had)
   * the whole document instead, as `refresh` pages.
   */
  #sync(connection: ActorConnection, sinceLsn: number, id: string | number | undefined): void {
    const lsn = this.#lsn();
    const pruned = sinceLsn < this.#floorLsn();
    const missed =
      sinceLsn > lsn || pruned ? [] : this.#log.since(sinceLsn, MAX_SYNC_OPERATIONS, MAX_SYNC_CHARS);
    const rows = missed ?? [];
    const reason =
      sinceLsn > lsn
        ? "ahead"
        : pruned
          ? "log_pruned"
          : missed === null
            ? "too_many"
            : rows.some((r) => r.kind === "restore" || r.kind === "merge")
              ? "restore_or_merge"
              : undefined;
    const refresh = reason !== undefined;
    if (refresh) {
      for (const text of pagedFrames("refresh", this.#allBlocks(), { lsn }))
        this.connections.send(connection, text);
    } else
      for (const row of rows) {
        const data = this.#log.data(row);
        const stamp = { userId: row.user_id, lsn: row.lsn };
        if (row.kind === "edit")
          this.connections.send(connection, frame("operation", { ...data, ...stamp, operationId: row.id }));
        else
          this.connections.send(
            connection,
            frame(row.kind, { ...data, ...stamp, [`${row.kind}Id`]: row.id }),
          );
      }
    this.connections.send(
      connection,
      frame("synced", { id, lsn, refreshed: refresh, ...(reason && { reason }) }),
    );
  }

  /** Remember the user's latest cursor; one `presence` frame per user per PRESENCE_COALESCE_MS. */
  #presence(connection: ActorConnection, input: PresenceInput): void {
    const { userId, name } = this.#who(connection);
    const previous = this.#pendingPresence.get(userId);
    this.#pendingPresence.set(userId, {
      userId,
      userName: name,
      cursorBlockId: input.cursorBlockId ?? null,
      cursorOffset: input.cursorOffset ?? null,
      selection: input.selection ?? null,
      lastSeen: Math.max(Date.now(), previous?.lastSeen ?? 0),
    });
    this.#presenceTimer ??= setTimeout(() => {
      try {
        this.#flushPresence();
      } catch (err) {
        // A timer has no caller to answer: an actor destroyed meanwhile refuses the write.
        if (!ActorError.from(err)) console.error("presence flush failed", err);
      }
    }, PRESENCE_COALESCE_MS);
  }

  #flushPresence(): void {
    this.#presenceTimer = undefined;
    const updates = [...this.#pendingPresence.values()];
    this.#pendingPresence.clear();
    if (updates.length === 0) return;
    this.transaction(() => {
      for (const p of updates)
        this.query(
          `UPDATE presence SET user_name = ?, cursor_block_id = ?, cursor_offset = ?, selection = ?, last_seen = ?
           WHERE user_id = ?`,
          [p.userName, p.cursorBlockId, p.cursorOffset, jsonOrNull(p.selection), p.lastSeen, p.userId],
        );
    });
    for (const p of updates) {
      const own = this.connections
        .all()
        .filter((c) => this.connections.state(c).userId === p.userId)
        .map((c) => c.id);
      this.broadcast(frame("presence", { action: "update", ...p }), { except: own });
    }
  }

  /** The schedule's sweep: presence of users with no open socket (a crash, an eviction) is cleared. */
  sweepPresence(): { cleared: number } {
    const open = new Set(this.connections.all().map((c) => this.connections.state(c).userId));
    const stale = this.query<{ user_id: string }>("SELECT user_id FROM presence").filter(
      (r) => !open.has(r.user_id),
    );
    for (const { user_id } of stale) {
      this.query("DELETE FROM presence WHERE user_id = ?", [user_id]);
      this.broadcast(frame("presence", { action: "leave", userId: user_id }));
    }
    return { cleared: stale.length };
  }

  // ---- methods (HTTP routes, RPC) ----
  // `caller` is who an HTTP route (or a Worker with the binding) says is calling; over the
  // socket it is the socket's user, and any `caller` argument is ignored (see #caller).

  /** The current blocks, parents first, and the LSN they are at. */
  blocks(caller?: CallerInput): { blocks: Block[]; lsn: number } {
    this.#caller(caller, "viewer");
    return { blocks: this.#allBlocks(), lsn: this.#lsn() };
  }

  /**
   * `blocks` as JSON bytes, streamed in pages: one RPC answer holds at most 32 MiB, a stream has no
   * such limit, so a large document still reads whole (the HTTP route). One read, one snapshot.
   */
  blocksJson(caller?: CallerInput): ReadableStream<Uint8Array> {
    const { blocks, lsn } = this.blocks(caller);
    const pages = pageBlocks(blocks);
    const encoder = new TextEncoder();
    let next = 0;
    return new ReadableStream({
      pull(controller) {
        if (next === pages.length) {
          controller.enqueue(encoder.encode(`],"lsn":${lsn}}`));
          controller.close();
          return;
        }
        const page = pages[next].map((b) => JSON.stringify(b)).join(",");
        controller.enqueue(encoder.encode(`${next === 0 ? '{"blocks":[' : ","}${page}`));
        next++;
      },
    });
  }

  /**
   * The operation log, newest first; `before` (an operation id) pages back, `next` is the
   * `before` of the following page (null at the oldest). A page also stops at about 8 MiB.
   */
  operationLog(input?: HistoryInput, caller?: CallerInput): { history: HistoryEntry[]; next: number | null } {
    const { limit, before } = parseInput(historyInput, input ?? {});
    this.#caller(caller, "viewer");
    return this.#log.page(limit ?? 50, before);
  }

  /**
   * Put the blocks back as they were at `timestamp`: the framework's `restoreTo`, one recorded
   * transaction (so restoring to a time before it undoes it), logged, then `refresh` to everyone.
   */
  restore(input: RestoreInput, caller?: CallerInput): { restoredTo: string; changes: number; lsn: number } {
    const { timestamp } = parseInput(restoreInput, input);
    const who = this.#caller(caller, "admin");
    const at = typeof timestamp === "number" ? timestamp : Date.parse(timestamp);
    const result = this.transaction(
      () => {
        const restored = this.restoreTo(at, { tables: ["blocks"] });
        const lsn = this.#lsn();
        if (restored.changes > 0)
          this.#log.append({
            userId: who.userId,
            blockId: null,
            kind: "restore",
            opType: null,
            data: { timestamp: at, tx: restored.tx, changes: restored.changes },
            before: null,
            after: null,
            timestamp: Date.now(),
            lsn,
          });
        return { changes: restored.changes, lsn };
      },
      { actor: `restore:${who.userId}` },
    );
    if (result.changes > 0) this.#refreshAll(result.lsn);
    return { restoredTo: new Date(at).toISOString(), ...result };
  }

  /** A draft: document `name`, a copy of this one that is edited apart (history's branch). */
  async branchDocument(input: BranchInput, caller: CallerInput) {
    const { name } = parseInput(branchInput, input);
    this.#caller(caller, "editor");
    await registerName(this.env, "documents", name);
    return this.branch(name);
  }

  /**
   * Bring a branch's block changes in (three-way by block). Conflicting blocks are listed; with
   * `onConflict: "fail"` (the default) nothing is written and MERGE_CONFLICT (409) lists them.
   */
  async mergeDocument(
    input: MergeInput,
    caller: CallerInput,
  ): Promise<{ branch: string; merged: true; changes: number; conflicts: MergeConflict[]; lsn: number }> {
    const { branch, onConflict } = parseInput(mergeInput, input);
    const who = this.#caller(caller, "admin");
    let lsn = this.#lsn();
    // Logged and announced in the merge's own transaction: an edit that comes while the merge
    // finishes (it waits on the branch) is after the refresh, so no client keeps it without the merge.
    const result = await this.merge(branch, {
      onConflict: onConflict ?? "fail",
      actor: `merge:${who.userId}`,
      inside: (merged) => {
        lsn = this.#lsn();
        if (merged.changes === 0) return;
        this.#log.append({
          userId: who.userId,
          blockId: null,
          kind: "merge",
          opType: null,
          data: { branch, tx: merged.tx, changes: merged.changes, onConflict: onConflict ?? "fail" },
          before: null,
          after: null,
          timestamp: Date.now(),
          lsn,
        });
        const at = lsn;
        queueMicrotask(() => this.#refreshAll(at)); // once the transaction has committed
      },
    });
    if (!result.merged)
      throw new ActorError("MERGE_CONFLICT", `${result.conflicts.length} block(s) changed on both sides`, {
        branch,
        conflicts: result.conflicts as never,
      });
    return { branch, merged: true, changes: result.changes, conflicts: result.conflicts, lsn };
  }

  /**
   * How long the operation log and the opId answers are kept (admins only): `log` (an age, default
   * 30 days) and `maxLogEntries` (default 10,000) bound the log, `clientOps` (default 7 days) the
   * answers kept for retries. Omitted fields are unchanged; `{}` reads the settings.
   */
  configureRetention(input: RetentionInput, caller: CallerInput): { retention: Retention } {
    const { log, maxLogEntries, clientOps } = parseInput(retentionInput, input ?? {});
    this.#caller(caller, "admin");
    const ms = (v: string | number | undefined) => (typeof v === "string" ? parseDuration(v)! : v);
    this.transaction(() => {
      if (log !== undefined) this.query("UPDATE documents SET log_retain_ms = ?", [ms(log)]);
      if (maxLogEntries !== undefined)
        this.query("UPDATE documents SET log_max_entries = ?", [maxLogEntries]);
      if (clientOps !== undefined)
        this.query("UPDATE documents SET client_ops_retain_ms = ?", [ms(clientOps)]);
      this.#schedulePrune();
    });
    return { retention: this.#retention() };
  }

  /**
   * The schedule's prune (every hour): log entries older than the retention or beyond its count,
   * oldest first (so every entry after a kept one is kept: undo, redo and baseLsn checks read
   * them), and opId answers older than theirs. Raises the log's floor to the newest LSN pruned: a
   * sync from before it gets a `refresh` (reason `log_pruned`), an edit with an older `baseLsn`
   * STALE_EDIT. Bounded per run; a run that leaves more schedules another.
   */
  pruneLog(): PruneResult {
    const none = { operations: 0, clientOps: 0, floorLsn: 0, more: false };
    if (!this.#exists()) return none;
    this.#adoptCopy();
    const now = Date.now();
    const retention = this.#retention();
    let operations = 0;
    let clientOps = 0;
    let more = false;
    for (;;) {
      const done = this.transaction(() => {
        const [cut] = this.query<{ id: number | null }>(
          `SELECT max(coalesce((SELECT min(id) FROM operations WHERE timestamp >= ?) - 1, (SELECT max(id) FROM operations)),
             coalesce((SELECT id FROM operations ORDER BY id DESC LIMIT 1 OFFSET ?), 0)) AS id`,
          [now - retention.log, retention.maxLogEntries],
        );
        const upTo = cut.id ?? 0;
        const [batch] = this.query<{ last: number | null; lsn: number | null; n: number }>(
          `SELECT max(id) AS last, max(lsn) AS lsn, count(*) AS n FROM
             (SELECT id, lsn FROM operations WHERE id <= ? ORDER BY id LIMIT ?)`,
          [upTo, PRUNE_BATCH],
        );
        if (batch.n > 0) {
          this.query("DELETE FROM operations WHERE id <= ?", [batch.last]);
          this.query("UPDATE documents SET log_floor_lsn = max(log_floor_lsn, ?)", [batch.lsn]);
        }
        const gone = this.run(
          "DELETE FROM client_ops WHERE rowid IN (SELECT rowid FROM client_ops WHERE at < ? LIMIT ?)",
          [now - retention.clientOps, PRUNE_BATCH],
        ).changes;
        operations += batch.n;
        clientOps += gone;
        return batch.n < PRUNE_BATCH && gone < PRUNE_BATCH;
      });
      if (done) break;
      if (operations + clientOps >= PRUNE_MAX_PER_RUN) {
        more = true;
        this.schedule.at(1_000, "pruneLog", undefined, { key: "prune-log-more" });
        break;
      }
    }
    return { operations, clientOps, floorLsn: this.#floorLsn(), more };
  }

  /** Give `userId` a role on this document (admins only). Takes effect on their next frame. */
  grant(input: GrantInput, caller: CallerInput): { userId: string; role: DocumentRole } {
    const { userId, role } = parseInput(grantInput, input);
    const who = this.#caller(caller, "admin");
    this.query(
      `INSERT INTO permissions (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by,
       granted_at = excluded.granted_at`,
      [userId, role, who.userId, Date.now()],
    );
    this.#roles.clear();
    return { userId, role };
  }

  /** Who is here now. */
  presenceList(caller?: CallerInput): { presence: PresenceEntry[] } {
    this.#caller(caller, "viewer");
    return { presence: this.#presenceList() };
  }

  // ---- internals ----

  #exists(): boolean {
    try {
      return this.database.query("SELECT 1 FROM documents").length > 0;
    } catch {
      return false;
    }
  }

  /**
   * A branch starts as a copy of every table of its parent (history's branch), its history at
   * LSN 0. The copy is made this document's own on first use: the parent's log entries keep their
   * place in the stacks but leave sync (their LSNs are the parent's: lsn 0, like an entry that
   * wrote no block here), and its presence rows (the parent's users, not here) are cleared and
   * swept from now on. The documents row naming the parent marks a copy not yet adopted.
   */
  #adoptCopy(): void {
    if (this.#adopted) return;
    const [row] = this.query<{ id: string }>("SELECT id FROM documents");
    if (row && row.id !== this.name)
      this.transaction(() => {
        this.query("UPDATE operations SET lsn = 0");
        // The parent's floor is in the parent's LSNs. A branch adopted on first use has written
        // nothing yet (its LSN is 0): its log is complete from the fork. A branch made before
        // adoption existed (fe94657) may have been edited already: its own entries lose their LSN
        // too, so a sync or baseLsn from before now must not rely on the log (refresh, STALE_EDIT).
        this.query("UPDATE documents SET id = ?, log_floor_lsn = ?", [this.name, this.#lsn()]);
        this.query("DELETE FROM presence");
        this.#scheduleSweep();
      });
    this.#adopted = row !== undefined;
  }

  /** Create the document on its first connection (registered first, so lookups find it). */
  async #create(userId: string): Promise<void> {
    if (this.#exists()) return this.#adoptCopy();
    await registerName(this.env, "documents", this.name);
    this.transaction(() => {
      if (this.query("SELECT 1 FROM documents").length > 0) return;
      const now = Date.now();
      this.query("INSERT INTO documents (id, created_by, created_at, updated_at) VALUES (?, ?, ?, ?)", [
        this.name,
        userId,
        now,
        now,
      ]);
      this.query(
        "INSERT INTO permissions (user_id, role, granted_by, granted_at) VALUES (?, 'admin', ?, ?)",
        [userId, userId, now],
      );
      this.#scheduleSweep();
    });
  }

  #scheduleSweep(): void {
    this.schedule.every(PRESENCE_SWEEP_MS, "sweepPresence", undefined, { key: "presence" });
    this.#schedulePrune();
  }

  #schedulePrune(): void {
    this.schedule.every(PRUNE_EVERY_MS, "pruneLog", undefined, { key: "prune-log" });
  }

  #retention(): Retention {
    const [row] = this.query<{ log: number | null; maxLogEntries: number | null; clientOps: number | null }>(
      `SELECT log_retain_ms AS log, log_max_entries AS maxLogEntries, client_ops_retain_ms AS clientOps
       FROM documents`,
    );
    return {
      log: row?.log ?? DEFAULT_RETENTION.log,
      maxLogEntries: row?.maxLogEntries ?? DEFAULT_RETENTION.maxLogEntries,
      clientOps: row?.clientOps ?? DEFAULT_RETENTION.clientOps,
    };
  }

  /** The log's floor: it holds every entry after this LSN. */
  #floorLsn(): number {
    return this.query<{ lsn: number }>("SELECT coalesce(max(log_floor_lsn), 0) AS lsn FROM documents")[0].lsn;
  }

  #who(connection: ActorConnection): { userId: string; name: string } {
    const state = this.connections.state(connection);
    return { userId: state.userId ?? "", name: state.name ?? state.userId ?? "" };
  }

  /** Does the user have another open socket here? */
  #others(connection: ActorConnection, userId: string): boolean {
    return this.connections
      .all()
      .some((c) => c.id !== connection.id && this.connections.state(c).userId === userId);
  }

  #roleOf(connection: ActorConnection): DocumentRole {
    const state = this.connections.state(connection);
    if ((state.data as ConnectionData | null)?.admin) return "admin";
    return this.#role(state.userId ?? "");
  }

  /** A user's role: granted, else editor (the creator was granted admin). */
  #role(userId: string): DocumentRole {
    let role = this.#roles.get(userId);
    if (!role) {
      const [row] = this.query<{ role: DocumentRole }>("SELECT role FROM permissions WHERE user_id = ?", [
        userId,
      ]);
      role = row?.role ?? "editor";
      this.#roles.set(userId, role);
    }
    return role;
  }

  #require(userId: string, role: DocumentRole, needs: DocumentRole): void {
    if (RANK[role] < RANK[needs]) throw notAllowed(userId, role, needs);
  }

  /**
   * Check the caller against `needs`; the document must exist. Within a socket call it is the
   * socket's user (the deployment's admin when the coordinator vouched for one), never an argument.
   */
  #caller(caller: CallerInput | undefined, needs: DocumentRole): { userId: string } {
    const socket = socketCaller();
    const who = parseInput(
      callerInput,
      socket ? { userId: socket.userId ?? undefined, admin: socket.role === "admin" } : caller,
    );
    if (!this.#exists()) throw documentNotFound(this.name);
    this.#adoptCopy();
    this.#require(who.userId, who.admin ? "admin" : this.#role(who.userId), needs);
    return who;
  }

  #lsn(): number {
    return lastLsn(this.ctx.storage.sql);
  }

  #allBlocks(): Block[] {
    return this.#blocks.all().map(toBlock);
  }

  #presenceList(): PresenceEntry[] {
    return this.query<{
      user_id: string;
      user_name: string;
      cursor_block_id: string | null;
      cursor_offset: number | null;
      selection: string | null;
      last_seen: number;
    }>("SELECT * FROM presence ORDER BY user_id").map((r) => ({
      userId: r.user_id,
      userName: r.user_name,
      cursorBlockId: r.cursor_block_id,
      cursorOffset: r.cursor_offset,
      selection: r.selection === null ? null : JSON.parse(r.selection),
      lastSeen: r.last_seen,
    }));
  }

  /** Everyone gets the whole document again (after a restore or merge). */
  #refreshAll(lsn: number): void {
    const frames = pagedFrames("refresh", this.#allBlocks(), { lsn });
    for (const connection of this.connections.all())
      for (const text of frames) this.connections.send(connection, text);
  }
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
