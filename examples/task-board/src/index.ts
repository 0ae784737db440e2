// A new actor on SqlActor with history, a schedule and a forward: a task board whose changes are
// kept (time travel), which counts overdue tasks every minute, and whose task changes are forwarded
// to an Activity actor that applies each batch exactly once.
import { ActorError, actorStub, defineActor, SqlActor } from "dosql-actors";
import { applyOnce, type ForwardBatch, forward } from "dosql-actors/forward";
import { history } from "dosql-actors/history";
import activitySql from "../migrations/0000_activity.sql";
import boardSql from "../migrations/0000_board.sql";
import { activity, overdue_runs, tasks } from "./schema";

const boardSchema = { tasks, overdue_runs };
const activitySchema = { activity };

type Task = { id: string; title: string; done: number; due_at: number };

function taskInput(input: unknown): { id: string; title: string; dueInMs: number } {
  const { id, title, dueInMs } = (input ?? {}) as Record<string, unknown>;
  if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
    throw new ActorError("VALIDATION_FAILED", "id: 1-64 characters of A-Z a-z 0-9 . _ -");
  if (typeof title !== "string" || title.length < 1 || title.length > 200)
    throw new ActorError("VALIDATION_FAILED", "title: 1-200 characters");
  if (!Number.isSafeInteger(dueInMs) || (dueInMs as number) < 0)
    throw new ActorError("VALIDATION_FAILED", "dueInMs: a whole number of ms, at least 0");
  return { id, title, dueInMs: dueInMs as number };
}

export class Board extends SqlActor<Env, typeof boardSchema> {
  static override config = defineActor({
    schema: boardSchema,
    migrations: { migrations: { "0000_board": boardSql } },
    history: history({ tables: ["tasks"], retain: "30d" }),
    forward: forward([
      {
        name: "activity",
        tables: ["tasks"],
        columns: { tasks: ["id", "title", "done"] }, // due_at stays here
        to: { actor: "ACTIVITY", name: "all", method: "apply" },
        batch: { size: 100, maxWaitMs: 50 },
      },
    ]),
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Idempotent by key: the same call on every wake changes nothing.
    this.schedule.every(60_000, "countOverdue", undefined, { key: "overdue" });
  }

  add(input: { id: string; title: string; dueInMs: number }): Task {
    const { id, title, dueInMs } = taskInput(input);
    const [task] = this.query<Task>(
      "INSERT INTO tasks (id, title, due_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING *",
      [id, title, Date.now() + dueInMs],
    );
    if (!task) throw new ActorError("TASK_EXISTS", `task ${id} exists`);
    return task;
  }

  finish(id: string): Task {
    const [task] = this.query<Task>("UPDATE tasks SET done = 1 WHERE id = ? RETURNING *", [id]);
    if (!task) throw new ActorError("TASK_NOT_FOUND", `no task ${id}`);
    return task;
  }

  /** The tasks as they were at `at` (epoch ms), from the history. */
  tasksAt(at: number): Task[] {
    if (!Number.isSafeInteger(at) || at < 0) throw new ActorError("VALIDATION_FAILED", "at: epoch ms");
    return this.query<Task>("SELECT * FROM tasks FOR SYSTEM_TIME AS OF TIMESTAMP ? ORDER BY id", [at]);
  }

  /** The scheduled task: how many open tasks are past due, recorded per run. */
  countOverdue(): number {
    const now = Date.now();
    const [{ n }] = this.query<{ n: number }>(
      "SELECT count(*) AS n FROM tasks WHERE done = 0 AND due_at < ?",
      [now],
    );
    this.run("INSERT OR REPLACE INTO overdue_runs (at, overdue) VALUES (?, ?)", [now, n]);
    return n;
  }
}

export class Activity extends SqlActor<Env, typeof activitySchema> {
  static override config = defineActor({
    schema: activitySchema,
    migrations: { migrations: { "0000_activity": activitySql } },
  });

  /** A forwarded batch, applied once (a redelivery answers `{ applied: false }` and writes nothing). */
  apply(batch: ForwardBatch) {
    return applyOnce(this, batch, (changes, b) => {
      for (const c of changes)
        if (c.after)
          this.run("INSERT OR REPLACE INTO activity (board, task_id, title, done) VALUES (?, ?, ?, ?)", [
            b.source,
            c.after.id,
            c.after.title,
            c.after.done,
          ]);
    });
  }

  list(): { board: string; task_id: string; title: string; done: number }[] {
    return this.query("SELECT * FROM activity ORDER BY board, task_id");
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    try {
      const board = actorStub(env.BOARD, new URL(request.url).searchParams.get("board") ?? "main");
      if (request.method === "POST")
        return Response.json(await board.add(await request.json()), { status: 201 });
      return Response.json(await actorStub(env.ACTIVITY, "all").list());
    } catch (err) {
      const e = ActorError.from(err);
      if (!e) throw err;
      return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
    }
  },
} satisfies ExportedHandler<Env>;
