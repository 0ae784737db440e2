import { assertCallerActor } from "../database";
import { ActorError } from "../errors";
import type { MigrationObserver } from "../migrations";
import { TextCache } from "../query-route";
import { type ApplyResult, applyTargets, type SideEffect } from "./apply";
import { type RestoreCapture, restoreCapture } from "./backup-restore";
import type { SeedMessage } from "./branch";
import { Branching } from "./branching";
import { Capture } from "./capture";
import type { HistorySettings } from "./config";
import { type ChangesOptions, type ChangesPage, type RowVersion, readChanges, readRowHistory } from "./feed";
import { LiveFeed } from "./live";
import type { MergeSource } from "./merge";
import { quietTables, type WriteTarget, writeTargetOf } from "./quiet";
import { restoreTargets, undoTargets } from "./restore";
import { type PruneResult, prune } from "./retention";
import { migrationObserver } from "./schema-changes";
import { BRANCHES, floorLsn, lastLsn, readState, SUBSCRIBERS, WAL } from "./store";
import { WriteSignal } from "./stream";
import { ack, listSubscribers, type Subscription, subscribe, unsubscribe } from "./subscribers";
import { rewriteSystemTime } from "./system-time";
import { describeTable, requireTracked, type TableInfo, userTableNames } from "./tables";
import { toTime } from "./time";
import { installTracking, type Tracking } from "./tracking";
import { dropAllTriggers } from "./triggers";
import type {
  BranchResult,
  HistoryHost,
  HistoryStatus,
  MergeOptions,
  MergeResult,
  RestoreResult,
  WriteResult,
} from "./types";

ActorError.defineStatus("RESTORE_SCOPE", 409);

/** Foreign-key effects on rows the writes did not target are conflicts: the transaction rolls back. */
function refuseSideEffects(applied: ApplyResult, what: string, details: Record<string, unknown>): void {
  if (applied.sideEffects.length === 0) return;
  const tables = [...new Set(applied.sideEffects.map((e) => e.table))];
  throw new ActorError(
    "CONFLICT",
    `${what}: it would also change ${applied.sideEffects.length} row(s) of ${tables.join(", ")} written since (foreign keys)`,
    { ...details, conflicts: applied.sideEffects satisfies SideEffect[] },
  );
}

/** History of one actor: wires capture, the feed, time travel, restore, branching and retention. */
export class HistoryEngine {
  readonly settings: HistorySettings;
  readonly #host: HistoryHost;
  readonly #sql: SqlStorage;
  readonly #branching: Branching;
  readonly #live: LiveFeed | undefined;
  #tracking: Tracking | undefined;
  #allTables: TableInfo[] = [];
  #capture: Capture | undefined;
  /** Tables whose writes capture nothing, read lazily after each install and after DDL. */
  #quiet: Set<string> | undefined;
  readonly #targets = new TextCache<WriteTarget>(writeTargetOf);
  /** Fires after each write: `history.subscribe(fromLsn)` and forwards wait on it. */
  readonly writes = new WriteSignal();

  constructor(host: HistoryHost, settings: HistorySettings) {
    this.#host = host;
    this.#sql = host.storage.sql;
    this.settings = settings;
    this.#branching = new Branching({
      host,
      captured: () => this.tracking.captured,
      allTables: () => this.#allTables,
      install: () => this.install(),
      write: (actor, fn) => this.#write(actor, fn),
    });
    // No grant, no feed: nothing could listen (rpc live queries follow the same grant), so a
    // write queues no push and reads nothing after it.
    if (host.live && settings.live.size > 0)
      this.#live = new LiveFeed(this.#sql, host.live, () => this.tracking.captured, settings.live);
  }

  /** Before pending migrations: triggers must not record (or block) schema changes. */
  beforeMigrations(): void {
    dropAllTriggers(this.#sql);
  }

  /** What history does while migrations run: old images under new names, data migrations recorded. */
  migrationObserver(): MigrationObserver {
    return migrationObserver(this.#sql, () => this.beforeMigrations());
  }

  /** After migrations, on every wake: tables and triggers in line with the schema. */
  install(): void {
    this.#tracking = installTracking(this.#host.storage, this.settings);
    this.#allTables = userTableNames(this.#sql).map((n) => describeTable(this.#sql, n)!);
    this.#live?.startAfter(lastLsn(this.#sql));
    this.#quiet = undefined;
    this.onInstall?.();
  }

  /**
   * Could a write with this text have captured a change? No only when it is a single write whose
   * target is a quiet table (quiet.ts): then its transaction needs no close. Raw writes straight on
   * `ctx.storage` are still captured and join the next transaction that writes a tracked table.
   */
  #mayCapture(sql: string): boolean {
    const { target, ddl } = this.#targets.get(sql);
    if (ddl) {
      this.#quiet = undefined;
      return true;
    }
    if (target === null) return true;
    this.#quiet ??= quietTables(this.#sql, this.tracking);
    return !this.#quiet.has(target);
  }

  /** Called after each install (wake, a restore from a backup, a branch seeded): the WAL may have changed. */
  onInstall: (() => void) | undefined;

  /** How a restore from a backup runs under history (see backup-restore.ts). */
  restoreHooks(): RestoreCapture {
    return restoreCapture(
      this.#sql,
      () => this.tracking.captured,
      () => {
        this.install();
        // The restore's transaction is a write like any other: live queries, subscribers and
        // forwards are told (it does not go through the write path that tells them).
        this.#live?.queue();
        this.writes.notify();
      },
    );
  }

  /** The consumer of the actor's write path (`Database`'s hooks): transaction boundaries. */
  hooks(): Capture {
    if (!this.#capture) {
      this.#capture = new Capture(this.#sql, (sql) => this.#mayCapture(sql));
      const live = this.#live;
      this.#capture.onWrite = () => {
        live?.queue();
        this.writes.notify();
      };
    }
    return this.#capture;
  }

  /** May a WebSocket listen to this `changes:` topic? Only tables `history.live` grants. */
  liveAllows(topic: string): boolean {
    return this.#live?.allows(topic) ?? false;
  }

  get tracking(): Tracking {
    if (!this.#tracking) throw new ActorError("HISTORY_UNAVAILABLE", "history is not installed yet");
    return this.#tracking;
  }

  rewrite(sql: string, params: readonly unknown[]): { sql: string; params: unknown[] } {
    return rewriteSystemTime(this.#sql, this.tracking, sql, params);
  }

  changes(options?: ChangesOptions): ChangesPage {
    return readChanges(this.#sql, this.tracking.captured, options);
  }

  rowHistory(table: string, key: unknown): RowVersion[] {
    return readRowHistory(this.#sql, this.tracking.captured, table, key);
  }

  subscribe(id: string, options?: { fromLsn?: number }): Subscription {
    return subscribe(this.#sql, id, options);
  }

  ack(id: string, lsn: number): Subscription {
    return ack(this.#sql, id, lsn);
  }

  unsubscribe(id: string): boolean {
    return unsubscribe(this.#sql, id);
  }

  subscribers(): Subscription[] {
    return listSubscribers(this.#sql);
  }

  prune(options?: { now?: number; maxPerCall?: number }): PruneResult {
    return this.#host.storage.transactionSync(() => prune(this.#sql, this.settings, options));
  }

  /** How often retention should run (a schedule calls `pruneAll`), or undefined without retention. */
  retentionInterval(): number | undefined {
    const { retainMs, maxChanges } = this.settings;
    if (retainMs === undefined && maxChanges === undefined) return undefined;
    return retainMs === undefined ? 3_600_000 : Math.min(Math.max(retainMs / 4, 60_000), 3_600_000);
  }

  /** Retention until nothing more is due (bounded: at most 10 steps of `prune` per call). */
  pruneAll(): PruneResult {
    let result = this.prune();
    let total = result.pruned;
    for (let i = 1; i < 10 && result.more; i++) {
      result = this.prune();
      total += result.pruned;
    }
    return { ...result, pruned: total };
  }

  restoreTo(timestamp: unknown, options: { tables?: readonly string[]; actor?: string } = {}): RestoreResult {
    const time = toTime(timestamp);
    assertCallerActor(options.actor);
    const { captured } = this.tracking;
    if (options.tables !== undefined && (!Array.isArray(options.tables) || options.tables.length === 0))
      throw new ActorError("VALIDATION_FAILED", "tables must be a non-empty list of tracked tables");
    const tables = options.tables
      ? options.tables.map((t) => requireTracked(captured, t))
      : [...captured.values()];
    const named = new Set(tables.map((t) => t.name));
    const result = this.#write(options.actor ?? "restore", () => {
      const applied = applyTargets(this.#sql, restoreTargets(this.#sql, tables, time), this.#allTables);
      const outside = [...new Set(applied.sideEffects.map((e) => e.table).filter((t) => !named.has(t)))];
      if (outside.length)
        throw new ActorError(
          "RESTORE_SCOPE",
          `restoring ${[...named].join(", ")} would also change ${outside.join(", ")} (foreign keys): name them too`,
          { tables: outside.sort(), rows: applied.sideEffects },
        );
      refuseSideEffects(applied, `cannot restore to ${new Date(time).toISOString()}`, {});
    });
    return { ...result, restoredTo: time };
  }

  undo(txId: number, options: { actor?: string } = {}): WriteResult {
    assertCallerActor(options.actor);
    return this.#write(options.actor ?? "undo", () =>
      refuseSideEffects(
        applyTargets(this.#sql, undoTargets(this.#sql, this.tracking.captured, txId), this.#allTables),
        `cannot undo transaction ${txId}`,
        { txId },
      ),
    );
  }

  branch(name: string): Promise<BranchResult> {
    return this.#branching.branch(name);
  }

  merge(branch: string, options: MergeOptions = {}): Promise<MergeResult> {
    assertCallerActor(options?.actor);
    if (options?.inside !== undefined && typeof options.inside !== "function")
      throw new ActorError("VALIDATION_FAILED", "merge's inside must be a function");
    return this.#branching.merge(branch, options);
  }

  seed(message: SeedMessage): { rows: number } {
    return this.#branching.seed(message);
  }

  mergeSource(request: { fromLsn: number; version: string | null }): MergeSource {
    return this.#branching.mergeSource(request);
  }

  markMerged(lsn: number): void {
    this.#branching.markMerged(lsn);
  }

  /** Run writes as one recorded transaction and report it. */
  #write(actor: string, fn: () => void): WriteResult {
    return this.#host.transaction(
      () => {
        const before = lastLsn(this.#sql);
        fn();
        const changes = lastLsn(this.#sql) - before;
        if (changes > 0) this.#host.markWritten();
        const tx =
          changes > 0
            ? Number(this.#sql.exec(`SELECT tx FROM ${WAL} ORDER BY lsn DESC LIMIT 1`).one().tx)
            : null;
        return { tx, changes };
      },
      { actor },
    );
  }

  /** The newest LSN (0 before any change): one statement, where `summary()` runs three. */
  lastLsn(): number {
    return lastLsn(this.#sql);
  }

  /** For `stats()`: the LSN range held (LSNs are contiguous, so the count is exact) and subscribers. */
  summary(): { lastLsn: number; floorLsn: number; changes: number; subscribers: number } {
    const last = lastLsn(this.#sql);
    const floor = floorLsn(this.#sql);
    return {
      lastLsn: last,
      floorLsn: floor,
      changes: Math.max(0, last - floor + 1),
      subscribers: this.#count(SUBSCRIBERS),
    };
  }

  status(): HistoryStatus {
    const { captured, appendOnly, skipped } = this.tracking;
    const fork = readState(this.#sql, "fork");
    return {
      tables: [...captured.keys()],
      appendOnly: [...appendOnly.keys()],
      skipped,
      lastLsn: lastLsn(this.#sql),
      floorLsn: floorLsn(this.#sql),
      transactions: this.#count(`${WAL} WHERE tx = lsn`),
      subscribers: this.#count(SUBSCRIBERS),
      branches: this.#sql
        .exec<{ name: string; fork_lsn: number; merged_lsn: number; created_at: number }>(
          `SELECT name, fork_lsn, merged_lsn, created_at FROM ${BRANCHES} ORDER BY name`,
        )
        .toArray()
        .map((b) => ({
          name: b.name,
          forkLsn: b.fork_lsn,
          mergedLsn: b.merged_lsn,
          createdAt: b.created_at,
        })),
      fork: typeof fork === "string" ? JSON.parse(fork) : null,
    };
  }

  #count(from: string): number {
    return Number(this.#sql.exec(`SELECT count(*) AS n FROM ${from}`).one().n);
  }
}
