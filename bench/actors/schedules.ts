import { DurableObject } from "cloudflare:workers";
import { defineActor, SqlActor } from "../../src/index";

/** The framework side: `n` one-off tasks scheduled then cancelled with `this.schedule`, in one call. */
export class BenchSchedules extends SqlActor<Env> {
  static override config = defineActor({ schema: {} });

  scheduleAndCancel(n: number): number {
    let done = 0;
    for (let i = 0; i < n; i++) {
      const task = this.schedule.at(3_600_000 + i, "noop", { i });
      if (this.schedule.cancel(task.id)) done++;
    }
    return done;
  }

  noop(): void {}
}

const CREATE =
  "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, method TEXT NOT NULL, payload TEXT, due INTEGER NOT NULL)";

/**
 * The baseline: a hand-written Durable Object keeping its own task table on the alarm, the least
 * a correct multi-timer needs: insert, re-arm at the earliest task, delete, re-arm.
 */
export class PlainBenchSchedules extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(CREATE);
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS tasks_due ON tasks (due)");
  }

  scheduleAndCancel(n: number): number {
    const sql = this.ctx.storage.sql;
    let done = 0;
    for (let i = 0; i < n; i++) {
      const id = crypto.randomUUID();
      sql.exec(
        "INSERT INTO tasks (id, method, payload, due) VALUES (?, ?, ?, ?)",
        id,
        "noop",
        JSON.stringify({ i }),
        Date.now() + 3_600_000 + i,
      );
      this.#arm();
      if (sql.exec("DELETE FROM tasks WHERE id = ?", id).rowsWritten > 0) done++;
      this.#arm();
    }
    return done;
  }

  #arm(): void {
    const next = this.ctx.storage.sql.exec<{ t: number | null }>("SELECT min(due) AS t FROM tasks").one().t;
    if (next === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(next);
  }
}
