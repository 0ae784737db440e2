import type { TransactionHooks, TransactionOptions } from "../database";
import { ActorError } from "../errors";
import { applyTargets } from "./apply";
import {
  assertFresh,
  checkBranchName,
  SeedBuffer,
  type SeedMessage,
  takeSnapshot,
  writeSeed,
} from "./branch";
import { Capture } from "./capture";
import type { Row } from "./codec";
import type { HistorySettings } from "./config";
import {
  type Change,
  type ChangesOptions,
  type ChangesPage,
  type RowVersion,
  readChanges,
  readRowHistory,
} from "./feed";
import { type ConflictPolicy, type MergeConflict, type MergeSource, mergeSource, planMerge } from "./merge";
import { restoreTargets, undoTargets } from "./restore";
import { type PruneResult, prune } from "./retention";
import { BRANCHES, floorLsn, lastLsn, readState, SUBSCRIBERS, TRACKED, WAL, writeState } from "./store";
import { ack, listSubscribers, type Subscription, subscribe, unsubscribe } from "./subscribers";
import { rewriteSystemTime } from "./system-time";
import { describeTable, requireTracked, type TableInfo, userTableNames } from "./tables";
import { toTime } from "./time";
import { installTracking, type Tracking } from "./tracking";
import { dropAllTriggers } from "./triggers";

/** What history needs from the actor that owns it (SqlActor wires these; history never imports it). */
export interface HistoryHost {
  storage: DurableObjectStorage;
  /** `ctx.id.name`. */
  name: string | undefined;
  /** Run `fn` in the actor's transaction (so capture groups it and records `actor`). */
  transaction<T>(fn: () => T, options?: TransactionOptions): T;
  /** The newest migration applied. */
  schemaVersion(): string | null;
  /** The namespace of this actor's class, for branches. */
  namespace(): DurableObjectNamespace | undefined;
  /** WebSocket topics someone listens to, and a way to send to one (live subscribers). */
  live?: { topics(): Iterable<string>; send(message: unknown, topic: string): void };
}

/** Live subscribers listen to `changes:<table>` (or `changes:*`); a pushed frame holds at most this many changes. */
export const LIVE_TOPIC = "changes:";
const LIVE_FRAME = 500;
const LIVE_MAX = 5000;

/** Branch-protocol stub methods (on SqlActor), called by the parent on its branch. */
export interface BranchStub {
  _historySeed(message: SeedMessage): Promise<{ rows: number }>;
  _historyMergeSource(request: { fromLsn: number; version: string | null }): Promise<MergeSource>;
  _historyMarkMerged(lsn: number): Promise<void>;
}

export interface WriteResult {
  /** The transaction that recorded the writes (undo it with `undo(tx)`), or null when nothing changed. */
  tx: number | null;
  /** Changes written (including those made by foreign key cascades). */
  changes: number;
}
export interface RestoreResult extends WriteResult {
  restoredTo: number;
}
export interface BranchResult {
  name: string;
  forkLsn: number;
  at: number;
  rows: number;
}
export interface MergeResult extends WriteResult {
  branch: string;
  /** False when conflicts stopped a "fail" merge: nothing was written. */
  merged: boolean;
  conflicts: MergeConflict[];
  /** The branch's LSN merged up to. */
  upTo: number;
}
export interface HistoryStatus {
  tables: string[];
  appendOnly: string[];
  skipped: { table: string; reason: string }[];
  lastLsn: number;
  floorLsn: number;
  transactions: number;
  subscribers: number;
  branches: { name: string; forkLsn: number; mergedLsn: number; createdAt: number }[];
  fork: { from: string; forkLsn: number; at: number } | null;
}

const POLICIES = new Set<ConflictPolicy>(["fail", "ours", "theirs"]);

export class HistoryEngine {
  readonly settings: HistorySettings;
  readonly #host: HistoryHost;
  readonly #sql: SqlStorage;
  #tracking: Tracking | undefined;
  #allTables: TableInfo[] = [];
  #seed: SeedBuffer | undefined;
  #capture: Capture | undefined;
  /** The newest LSN pushed to live subscribers. */
  #pushed = 0;
  #pushQueued = false;

  constructor(host: HistoryHost, settings: HistorySettings) {
    this.#host = host;
    this.#sql = host.storage.sql;
    this.settings = settings;
  }

  /** Before pending migrations: triggers must not record (or block) schema changes. */
  beforeMigrations(): void {
    dropAllTriggers(this.#sql);
  }

  /** After migrations, on every wake: tables and triggers in line with the schema. */
  install(): void {
    this.#tracking = installTracking(this.#host.storage, this.settings);
    this.#allTables = userTableNames(this.#sql).map((n) => describeTable(this.#sql, n)!);
    this.#pushed = lastLsn(this.#sql);
  }

  /** Start watching statement and transaction boundaries (once, after install). */
  hooks(): TransactionHooks {
    if (!this.#capture) {
      this.#capture = new Capture(this.#host.storage);
      if (this.#host.live) this.#capture.onWrite = () => this.#queuePush();
    }
    return this.#capture;
  }

  /** How often retention should run (a schedule calls `pruneAll`), or undefined without retention. */
  retentionInterval(): number | undefined {
    const { retainMs, maxChanges } = this.settings;
    if (retainMs === undefined && maxChanges === undefined) return undefined;
    return retainMs === undefined ? 3_600_000 : Math.min(Math.max(retainMs / 4, 60_000), 3_600_000);
  }

  /** Retention until nothing more is due (bounded: at most 10 steps of `prune` per call). */
  pruneAll(): PruneResult {
    let total = 0;
    let result = this.prune();
    total += result.pruned;
    for (let i = 1; i < 10 && result.more; i++) {
      result = this.prune();
      total += result.pruned;
    }
    return { ...result, pruned: total };
  }

  /** After a write: push new changes to live subscribers once the current work (and its commit) is done. */
  #queuePush(): void {
    if (this.#pushQueued) return;
    this.#pushQueued = true;
    queueMicrotask(() => {
      this.#pushQueued = false;
      try {
        this.#push();
      } catch {
        // A failed push must not fail the write; subscribers can always catch up with changes().
        this.#pushed = lastLsn(this.#sql);
      }
    });
  }

  #push(): void {
    const live = this.#host.live!;
    const topics = new Set([...live.topics()].filter((t) => t.startsWith(LIVE_TOPIC)));
    const last = lastLsn(this.#sql);
    if (last <= this.#pushed) return;
    if (topics.size === 0) {
      this.#pushed = last;
      return;
    }
    let from = this.#pushed + 1;
    this.#pushed = last;
    for (let sent = 0; from <= last; ) {
      if (sent >= LIVE_MAX) {
        for (const topic of topics) live.send({ type: "changes:overflow", nextLsn: from }, topic);
        return;
      }
      const page = readChanges(this.#sql, this.tracking.captured, { fromLsn: from, limit: LIVE_FRAME });
      if (page.changes.length === 0) return;
      const byTable = new Map<string, unknown[]>();
      for (const c of page.changes) byTable.set(c.table, [...(byTable.get(c.table) ?? []), toWire(c)]);
      for (const [table, changes] of byTable) {
        for (const topic of [`${LIVE_TOPIC}${table}`, `${LIVE_TOPIC}*`])
          if (topics.has(topic)) live.send({ type: "changes", table, changes, nextLsn: page.nextLsn }, topic);
      }
      sent += page.changes.length;
      from = page.nextLsn;
    }
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

  restoreTo(timestamp: unknown, options: { tables?: readonly string[]; actor?: string } = {}): RestoreResult {
    const time = toTime(timestamp);
    const { captured } = this.tracking;
    if (options.tables !== undefined && (!Array.isArray(options.tables) || options.tables.length === 0))
      throw new ActorError("VALIDATION_FAILED", "tables must be a non-empty list of tracked tables");
    const tables = options.tables
      ? options.tables.map((t) => requireTracked(captured, t))
      : [...captured.values()];
    const result = this.#write(options.actor ?? "restore", () =>
      applyTargets(this.#sql, restoreTargets(this.#sql, tables, time), this.#allTables),
    );
    return { ...result, restoredTo: time };
  }

  undo(txId: number, options: { actor?: string } = {}): WriteResult {
    return this.#write(options.actor ?? "undo", () =>
      applyTargets(this.#sql, undoTargets(this.#sql, this.tracking.captured, txId), this.#allTables),
    );
  }

  /** Run writes as one recorded transaction and report it. */
  #write(actor: string, fn: () => void): WriteResult {
    return this.#host.transaction(
      () => {
        const before = lastLsn(this.#sql);
        fn();
        const changes = lastLsn(this.#sql) - before;
        const tx =
          changes > 0
            ? Number(this.#sql.exec(`SELECT tx FROM ${WAL} ORDER BY lsn DESC LIMIT 1`).one().tx)
            : null;
        return { tx, changes };
      },
      { actor },
    );
  }

  async branch(name: string): Promise<BranchResult> {
    const branchName = checkBranchName(name, this.#host.name);
    const known = this.#sql.exec(`SELECT 1 FROM ${BRANCHES} WHERE name = ?`, branchName).toArray();
    if (known.length)
      throw new ActorError("BRANCH_EXISTS", `branch ${branchName} already exists`, { branch: branchName });
    const stub = this.#branchStub(branchName);
    const snapshot = takeSnapshot(this.#sql, this.#host.name ?? "", this.#host.schemaVersion());
    await stub._historySeed(snapshot.begin);
    for (const chunk of snapshot.chunks) await stub._historySeed(chunk);
    await stub._historySeed({ phase: "end", rows: snapshot.rows });
    this.#sql.exec(
      `INSERT INTO ${BRANCHES} (name, fork_lsn, created_at, merged_lsn) VALUES (?, ?, ?, 0)`,
      branchName,
      snapshot.begin.forkLsn,
      snapshot.begin.at,
    );
    return { name: branchName, forkLsn: snapshot.begin.forkLsn, at: snapshot.begin.at, rows: snapshot.rows };
  }

  async merge(
    branch: string,
    options: { onConflict?: ConflictPolicy; actor?: string } = {},
  ): Promise<MergeResult> {
    const branchName = checkBranchName(branch, this.#host.name);
    const policy = options.onConflict ?? "fail";
    if (!POLICIES.has(policy))
      throw new ActorError("VALIDATION_FAILED", 'onConflict must be "fail", "ours" or "theirs"');
    const record = this.#branchRecord(branchName);
    const stub = this.#branchStub(branchName);
    const source = await stub._historyMergeSource({
      fromLsn: record.merged_lsn + 1,
      version: this.#host.schemaVersion(),
    });
    // Everything from here on is synchronous: this actor's rows cannot change under the merge.
    const current = this.#branchRecord(branchName);
    if (current.merged_lsn !== record.merged_lsn)
      throw new ActorError("MERGE_CONFLICT", `branch ${branchName} was merged concurrently; merge again`);
    const { targets, conflicts } = planMerge(this.#sql, this.tracking.captured, source, policy);
    if (conflicts.length && policy === "fail")
      return { branch: branchName, merged: false, conflicts, upTo: record.merged_lsn, tx: null, changes: 0 };
    const result = this.#write(options.actor ?? `merge:${branchName}`, () => {
      applyTargets(this.#sql, targets, this.#allTables);
      this.#sql.exec(
        `UPDATE ${BRANCHES} SET merged_lsn = ?, merged_at = ? WHERE name = ?`,
        source.upTo,
        Date.now(),
        branchName,
      );
    });
    await stub._historyMarkMerged(source.upTo);
    return { branch: branchName, merged: true, conflicts, upTo: source.upTo, ...result };
  }

  #branchRecord(name: string): { merged_lsn: number } {
    const row = this.#sql
      .exec<{ merged_lsn: number }>(`SELECT merged_lsn FROM ${BRANCHES} WHERE name = ?`, name)
      .toArray()[0];
    if (!row) throw new ActorError("BRANCH_NOT_FOUND", `no branch ${name} of this actor`, { branch: name });
    return row;
  }

  #branchStub(name: string): BranchStub {
    const ns = this.#host.namespace();
    if (!ns)
      throw new ActorError(
        "INVALID_CONFIG",
        "branch needs this actor's namespace: set history.binding, or export the class from the Worker entry",
      );
    return ns.getByName(name) as unknown as BranchStub;
  }

  /** Branch side of `branch()`: receive the snapshot, then write it in one transaction. */
  seed(message: SeedMessage): { rows: number } {
    if (!message || typeof message !== "object")
      throw new ActorError("VALIDATION_FAILED", "bad seed message");
    if (message.phase === "begin") {
      // A buffer left by a copy that failed half way is replaced: nothing of it was written.
      if (readState(this.#sql, "fork") !== undefined)
        throw new ActorError("BRANCH_EXISTS", "this actor is already a branch");
      assertFresh(this.#sql);
      if (message.version !== this.#host.schemaVersion())
        throw new ActorError("BRANCH_SCHEMA_MISMATCH", "the branch runs a different schema version", {
          parent: message.version,
          branch: this.#host.schemaVersion(),
        });
      this.#seed = new SeedBuffer(message);
      return { rows: 0 };
    }
    const buffer = this.#seed;
    if (!buffer)
      throw new ActorError(
        "BRANCH_SEED_LOST",
        "the branch lost the snapshot (evicted mid-copy); branch again",
      );
    if (message.phase === "rows") {
      buffer.add(message);
      return { rows: buffer.count };
    }
    if (message.phase !== "end") throw new ActorError("VALIDATION_FAILED", "bad seed phase");
    if (message.rows !== buffer.count)
      throw new ActorError("BRANCH_SEED_LOST", `the branch received ${buffer.count} of ${message.rows} rows`);
    this.#seed = undefined;
    const rows = this.#host.storage.transactionSync(() => {
      assertFresh(this.#sql);
      dropAllTriggers(this.#sql);
      const written = writeSeed(this.#sql, buffer);
      this.install();
      const now = Date.now();
      this.#sql.exec(`UPDATE ${TRACKED} SET since_at = ?, since_lsn = ?`, now, lastLsn(this.#sql) + 1);
      writeState(
        this.#sql,
        "fork",
        JSON.stringify({ from: buffer.begin.from, forkLsn: buffer.begin.forkLsn, at: buffer.begin.at }),
      );
      writeState(this.#sql, "merge_base", 0);
      return written;
    });
    return { rows };
  }

  /** Branch side of `merge()`. */
  mergeSource(request: { fromLsn: number; version: string | null }): MergeSource {
    if (readState(this.#sql, "fork") === undefined)
      throw new ActorError("BRANCH_NOT_FOUND", "this actor is not a branch");
    if (request?.version !== this.#host.schemaVersion())
      throw new ActorError("BRANCH_SCHEMA_MISMATCH", "the branch runs a different schema version", {
        parent: request?.version ?? null,
        branch: this.#host.schemaVersion(),
      });
    return mergeSource(this.#sql, this.tracking.captured, request.fromLsn);
  }

  /** Branch side: the parent merged up to `lsn`; retention may now prune below it. */
  markMerged(lsn: number): void {
    if (!Number.isSafeInteger(lsn) || lsn < 0)
      throw new ActorError("VALIDATION_FAILED", "lsn must be an integer");
    const current = readState(this.#sql, "merge_base");
    if (typeof current !== "number" || lsn > current) writeState(this.#sql, "merge_base", lsn);
  }

  /** For `stats()`: the LSN range held (LSNs are contiguous, so the count is exact) and subscribers. */
  summary(): { lastLsn: number; floorLsn: number; changes: number; subscribers: number } {
    const last = lastLsn(this.#sql);
    const floor = floorLsn(this.#sql);
    const subscribers = Number(this.#sql.exec(`SELECT count(*) AS n FROM ${SUBSCRIBERS}`).one().n);
    return { lastLsn: last, floorLsn: floor, changes: Math.max(0, last - floor + 1), subscribers };
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
      transactions: Number(this.#sql.exec(`SELECT count(*) AS n FROM ${WAL} WHERE tx = lsn`).one().n),
      subscribers: Number(this.#sql.exec(`SELECT count(*) AS n FROM ${SUBSCRIBERS}`).one().n),
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
}

/** A change as JSON for a WebSocket frame: bytes as {"$b": hex}, like the WAL's images. */
function toWire(change: Change): unknown {
  const fix = (row: Row | null) =>
    row &&
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v instanceof Uint8Array ? { $b: [...v].map((b) => b.toString(16).padStart(2, "0")).join("") } : v,
      ]),
    );
  return { ...change, key: fix(change.key), before: fix(change.before), after: fix(change.after) };
}
