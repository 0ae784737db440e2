import { ARCHIVE_ACTOR } from "../database";
import { ActorError } from "../errors";
import { type ActorPart, PART, type PartHost, type PartInstance } from "../part";
import type { SourceReader } from "../sql/scratch";
import { resolveTiering, type TieringConfig } from "./config";
import { renameObserver } from "./renames";
import { declareSchedules, scheduleResume } from "./schedules";
import { Tiering } from "./tiering";

/** What SqlActor holds for `tiering`: `this.tiering`, and cold queries routed to it. */
export interface TieringPart extends PartInstance<Tiering> {
  readonly api: Tiering;
  readonly reader: SourceReader;
  query(sql: string, params: readonly unknown[]): Promise<unknown[]>;
}

/**
 * R2 archive (Parquet), cold queries over `'r2://…'` and backups, as an opt-in part:
 *   import { tiering } from "dosql-actors/tiering";
 *   static config = defineActor({ schema, migrations, tiering: tiering({ binding: "ARCHIVE" }) });
 * hyparquet and hyparquet-writer come with this entry point only. The config is checked here.
 */
export function tiering(config: TieringConfig = {}): ActorPart<Tiering> {
  resolveTiering(config);
  return {
    [PART]: "tiering",
    create(host: PartHost): TieringPart {
      const { ctx } = host;
      const api: Tiering = new Tiering({
        storage: ctx.storage,
        env: host.env,
        actorName: ctx.id.name ?? ctx.id.toString(),
        config,
        query: (sql, params) => host.query(sql, params),
        assertReady: () => host.assertReady(),
        transaction: (fn) => host.transaction(fn, { actor: ARCHIVE_ACTOR }),
        markWritten: () => host.markWritten(),
        restoreHooks: () => host.restoreHooks(),
        afterRestore: () => host.restored(),
        scheduleResume: () => scheduleResume(api.config, host.schedule),
      });
      return {
        api,
        migrationObserver: () => renameObserver(ctx.storage.sql),
        start: () => {
          try {
            declareSchedules(api.config, host.schedule);
          } catch (err) {
            throw new ActorError(
              "INVALID_CONFIG",
              `tiering schedules: ${ActorError.from(err)?.description ?? String(err)}`,
            );
          }
        },
        reader: api.reader(),
        query: (sql, params) => api.query(sql, params, host.readers()),
      };
    },
  };
}
