import { ActorError } from "../errors";
import { type ActorPart, PART, type PartHost, type PartInstance } from "../part";
import { type HistoryConfig, readHistoryConfig } from "./config";
import { HistoryEngine } from "./engine";
import { History } from "./history";

/** The schedule key of history retention. */
const RETENTION_KEY = "dosql:history:retention";

/** What SqlActor holds for `history`: the engine (restore, branch, merge) and `this.history`. */
export interface HistoryPart extends PartInstance<History> {
  readonly api: History;
  query(sql: string, params: readonly unknown[]): unknown[];
  readonly engine: HistoryEngine;
}

/**
 * Change capture, the change feed, time travel, restore, branch and merge, as an opt-in part:
 *   import { history } from "dosql-actors/history";
 *   static config = defineActor({ schema, migrations, history: history({ tables: "all" }) });
 * The config is checked here, when the class is defined.
 */
export function history(config: HistoryConfig): ActorPart<History> {
  const settings = readHistoryConfig(config);
  if (!settings) throw new ActorError("INVALID_CONFIG", 'history needs { tables: "all" | [...] }');
  return {
    [PART]: "history",
    create(host: PartHost): HistoryPart {
      const { ctx, env } = host;
      const engine = new HistoryEngine(
        {
          storage: ctx.storage,
          name: ctx.id.name,
          transaction: (fn, options) => host.transaction(fn, options),
          markWritten: () => host.markWritten(),
          schemaVersion: () => host.schemaVersion(),
          live: {
            topics: () => host.topics(),
            send: (message, topic) => host.send(message, topic),
            committed: (from, last) => host.committed(from, last),
          },
          namespace: () =>
            (settings.binding
              ? (env as Record<string, unknown>)[settings.binding]
              : (ctx as { exports?: Record<string, unknown> }).exports?.[host.exportName]) as
              | DurableObjectNamespace
              | undefined,
        },
        settings,
      );
      const api = new History(engine, () => host.assertReady());
      // Retention goes on the schedule from the first change on: an actor that was only looked up
      // gets no task and no alarm. Decided once, not per commit: on each install (wake, restore,
      // seeded branch) by reading the WAL, then at the first commit that captured a change (the
      // close says so, see capture.ts), which needs no read. Writes to untracked tables never arm.
      let armed = false;
      const arm = (captured: boolean) => {
        const every = engine.retentionInterval();
        if (!every) return;
        try {
          host.assertReady();
        } catch {
          return;
        }
        if (!captured && engine.summary().changes === 0) return;
        host.schedule.every(every, "pruneHistory", undefined, { key: RETENTION_KEY });
        armed = true;
      };
      // From a commit hook: a failure to schedule must not roll back the caller's transaction.
      const armSafely = (captured: boolean) => {
        try {
          arm(captured);
        } catch (err) {
          console.error("could not schedule history retention", err);
        }
      };
      engine.onInstall = () => {
        if (!armed && engine.retentionInterval()) armSafely(false);
      };
      return {
        api,
        engine,
        migrationObserver: () => engine.migrationObserver(),
        afterMigrations: () => {
          engine.install();
          const hooks = engine.hooks();
          return {
            begin: (options) => hooks.begin(options),
            commit: (wrote) => {
              if (hooks.commit(wrote) && !armed) armSafely(true);
            },
            rollback: () => hooks.rollback(),
            captures: hooks.captures,
            wrote: () => {
              if (hooks.wrote() && !armed) armSafely(true);
            },
          };
        },
        // Retention runs on a schedule (idempotent by key; removed when retention is off).
        start: () => {
          if (engine.retentionInterval()) arm(false);
          else host.schedule.cancel(RETENTION_KEY);
        },
        query: (sql, params) => {
          const rewritten = engine.rewrite(sql, params);
          return host.query(rewritten.sql, rewritten.params);
        },
        restoreHooks: () => engine.restoreHooks(),
        stats: () => engine.summary(),
      };
    },
  };
}
