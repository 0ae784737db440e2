import { ActorError } from "../errors";
import { applyTargets, selfReferenceLoops } from "./apply";
import {
  assertFresh,
  checkBranchName,
  SeedBuffer,
  type SeedMessage,
  takeSnapshot,
  writeSeed,
} from "./branch";
import { keyObject, parseImage } from "./codec";
import { type ConflictPolicy, type MergeConflict, type MergeSource, mergeSource, planMerge } from "./merge";
import { BRANCHES, lastLsn, readState, TRACKED, writeState } from "./store";
import type { TableInfo } from "./tables";
import { dropAllTriggers } from "./triggers";
import type { BranchResult, HistoryHost, MergeOptions, MergeResult, WriteResult } from "./types";

/** Branch-protocol methods (on SqlActor) the parent calls on its branch. */
export interface BranchStub {
  _historySeed(message: SeedMessage): Promise<{ rows: number }>;
  _historyMergeSource(request: { fromLsn: number; version: string | null }): Promise<MergeSource>;
  _historyMarkMerged(lsn: number): Promise<void>;
}

/** What branching needs from the engine. */
export interface BranchingContext {
  host: HistoryHost;
  captured(): ReadonlyMap<string, TableInfo>;
  allTables(): readonly TableInfo[];
  /** Re-create triggers and tracking (after the seed is written). */
  install(): void;
  /** Run writes as one recorded transaction. */
  write(actor: string, fn: () => void): WriteResult;
}

/** Thrown inside the merge transaction to roll it back when a cascade conflict stops it. */
const CASCADE_STOP = new Error("merge stopped by a cascade conflict");

const POLICIES = new Set<ConflictPolicy>(["fail", "ours", "theirs"]);

/** branch() and merge() on the parent; the seed and merge-source protocol on the branch. */
export class Branching {
  readonly #ctx: BranchingContext;
  readonly #sql: SqlStorage;
  #seed: SeedBuffer | undefined;

  constructor(ctx: BranchingContext) {
    this.#ctx = ctx;
    this.#sql = ctx.host.storage.sql;
  }

  async branch(name: string): Promise<BranchResult> {
    const { host } = this.#ctx;
    const branchName = checkBranchName(name, host.name);
    const known = this.#sql.exec(`SELECT 1 FROM ${BRANCHES} WHERE name = ?`, branchName).toArray();
    if (known.length)
      throw new ActorError("BRANCH_EXISTS", `branch ${branchName} already exists`, { branch: branchName });
    const stub = this.#stub(branchName);
    const snapshot = takeSnapshot(this.#sql, host.name ?? "", host.schemaVersion());
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

  async merge(branch: string, options: MergeOptions): Promise<MergeResult> {
    const branchName = checkBranchName(branch, this.#ctx.host.name);
    const policy = options.onConflict ?? "fail";
    if (!POLICIES.has(policy))
      throw new ActorError("VALIDATION_FAILED", 'onConflict must be "fail", "ours" or "theirs"');
    const merged = this.#mergedLsn(branchName);
    const stub = this.#stub(branchName);
    const source = await stub._historyMergeSource({
      fromLsn: merged + 1,
      version: this.#ctx.host.schemaVersion(),
    });
    // Everything from here on is synchronous: this actor's rows cannot change under the merge.
    if (this.#mergedLsn(branchName) !== merged)
      throw new ActorError("MERGE_CONFLICT", `branch ${branchName} was merged concurrently; merge again`);
    const { targets, conflicts } = planMerge(this.#sql, this.#ctx.captured(), source, policy);
    if (conflicts.length && policy === "fail")
      return { branch: branchName, merged: false, conflicts, upTo: merged, tx: null, changes: 0 };
    // A foreign key's cascade (or SET NULL) reaching rows this actor wrote since the fork is a
    // conflict too: under "theirs" it is applied and reported, otherwise nothing is written. A row
    // the merge would make its own ancestor (a loop through a foreign key to its own table, which
    // neither side had) stops the merge under every policy: no choice of sides makes it a tree.
    let cascades: MergeConflict[] = [];
    let result: WriteResult;
    try {
      result = this.#ctx.write(options.actor ?? `merge:${branchName}`, () => {
        const before = lastLsn(this.#sql);
        const looped = new Set(selfReferenceLoops(this.#sql, targets));
        const applied = applyTargets(this.#sql, targets, this.#ctx.allTables());
        const loops = selfReferenceLoops(this.#sql, targets).filter((t) => !looped.has(t));
        cascades = applied.sideEffects.map((e) => ({
          table: e.table,
          key: e.key,
          base: null,
          ours: e.before,
          theirs: e.after,
          cascade: true,
        }));
        if (loops.length) {
          cascades = loops.map((t) => ({
            table: t.table.name,
            key: keyObject(t.table, t.key),
            base: null,
            ours: null,
            theirs: parseImage(t.image ?? undefined),
            cycle: true,
          }));
          throw CASCADE_STOP;
        }
        if (cascades.length && policy !== "theirs") throw CASCADE_STOP;
        this.#sql.exec(
          `UPDATE ${BRANCHES} SET merged_lsn = ?, merged_at = ? WHERE name = ?`,
          source.upTo,
          Date.now(),
          branchName,
        );
        // A transaction's id is the LSN of its first change (store.ts).
        const changes = lastLsn(this.#sql) - before;
        options.inside?.({ tx: changes > 0 ? before + 1 : null, changes });
      });
    } catch (err) {
      if (err !== CASCADE_STOP) throw err;
      return {
        branch: branchName,
        merged: false,
        conflicts: [...conflicts, ...cascades],
        upTo: merged,
        tx: null,
        changes: 0,
      };
    }
    conflicts.push(...cascades);
    await stub._historyMarkMerged(source.upTo);
    return { branch: branchName, merged: true, conflicts, upTo: source.upTo, ...result };
  }

  /** Branch side of `branch()`: receive the snapshot, then write it in one transaction. */
  seed(message: SeedMessage): { rows: number } {
    if (!message || typeof message !== "object")
      throw new ActorError("VALIDATION_FAILED", "bad seed message");
    const { host } = this.#ctx;
    if (message.phase === "begin") {
      // A buffer left by a copy that failed half way is replaced: nothing of it was written.
      if (readState(this.#sql, "fork") !== undefined)
        throw new ActorError("BRANCH_EXISTS", "this actor is already a branch");
      assertFresh(this.#sql);
      this.#checkVersion(message.version);
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
    const rows = host.storage.transactionSync(() => {
      assertFresh(this.#sql);
      dropAllTriggers(this.#sql); // the copy is the branch's starting point, not a change
      const written = writeSeed(this.#sql, buffer);
      this.#ctx.install();
      this.#sql.exec(`UPDATE ${TRACKED} SET since_at = ?, since_lsn = ?`, Date.now(), lastLsn(this.#sql) + 1);
      const { from, forkLsn, at } = buffer.begin;
      writeState(this.#sql, "fork", JSON.stringify({ from, forkLsn, at }));
      writeState(this.#sql, "merge_base", 0);
      return written;
    });
    return { rows };
  }

  /** Branch side of `merge()`: what changed since `fromLsn`, with base and current rows. */
  mergeSource(request: { fromLsn: number; version: string | null }): MergeSource {
    if (readState(this.#sql, "fork") === undefined)
      throw new ActorError("BRANCH_NOT_FOUND", "this actor is not a branch");
    this.#checkVersion(request?.version ?? null);
    return mergeSource(this.#sql, this.#ctx.captured(), request.fromLsn);
  }

  /** Branch side: the parent merged up to `lsn`; retention may now prune below it. */
  markMerged(lsn: number): void {
    if (!Number.isSafeInteger(lsn) || lsn < 0)
      throw new ActorError("VALIDATION_FAILED", "lsn must be an integer");
    const current = readState(this.#sql, "merge_base");
    if (typeof current !== "number" || lsn > current) writeState(this.#sql, "merge_base", lsn);
  }

  #checkVersion(parent: string | null): void {
    const own = this.#ctx.host.schemaVersion();
    if (parent !== own)
      throw new ActorError("BRANCH_SCHEMA_MISMATCH", "the branch runs a different schema version", {
        parent,
        branch: own,
      });
  }

  #mergedLsn(name: string): number {
    const row = this.#sql
      .exec<{ merged_lsn: number }>(`SELECT merged_lsn FROM ${BRANCHES} WHERE name = ?`, name)
      .toArray()[0];
    if (!row) throw new ActorError("BRANCH_NOT_FOUND", `no branch ${name} of this actor`, { branch: name });
    return row.merged_lsn;
  }

  #stub(name: string): BranchStub {
    const ns = this.#ctx.host.namespace();
    if (!ns)
      throw new ActorError(
        "INVALID_CONFIG",
        "branch needs this actor's namespace: set history.binding, or export the class from the Worker entry",
      );
    return ns.getByName(name) as unknown as BranchStub;
  }
}
