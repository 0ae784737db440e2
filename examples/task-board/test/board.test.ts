import { env, runDurableObjectAlarm } from "cloudflare:test";
import { ActorError, actorStub } from "dosql-actors";
import { expect, it } from "vitest";

const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
};

it("forwards task changes to the Activity actor (declared columns only)", async () => {
  const board = actorStub(env.BOARD, "team-a");
  await board.add({ id: "t1", title: "write docs", dueInMs: 60_000 });
  await board.add({ id: "t2", title: "ship", dueInMs: 60_000 });
  await board.finish("t1");
  const activity = actorStub(env.ACTIVITY, "all");
  const rows = await until(
    () => activity.list(),
    (r) => r.length === 2 && r[0].done === 1,
  );
  expect(rows).toEqual([
    { board: "team-a", task_id: "t1", title: "write docs", done: 1 },
    { board: "team-a", task_id: "t2", title: "ship", done: 0 },
  ]);
});

it("answers the tasks as they were, from its history", async () => {
  const board = actorStub(env.BOARD, "team-b");
  await board.add({ id: "t1", title: "plan", dueInMs: 0 });
  await new Promise((r) => setTimeout(r, 20));
  const before = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await board.finish("t1");
  expect((await board.tasksAt(before)).map((t) => t.done)).toEqual([0]);
  expect((await board.tasksAt(Date.now())).map((t) => t.done)).toEqual([1]);
});

it("runs its schedule on the alarm, and refuses bad input with typed errors", async () => {
  const board = actorStub(env.BOARD, "team-c");
  await board.add({ id: "late", title: "overdue already", dueInMs: 0 });
  await new Promise((r) => setTimeout(r, 5));
  expect(await board.countOverdue()).toBe(1);
  expect(await runDurableObjectAlarm(env.BOARD.getByName("team-c"))).toBe(true);
  const bad = await board.add({ id: "", title: "x", dueInMs: 1 }).catch((e: unknown) => e);
  expect(ActorError.from(bad)?.code).toBe("VALIDATION_FAILED");
  const dup = await board.add({ id: "late", title: "again", dueInMs: 1 }).catch((e: unknown) => e);
  expect(ActorError.from(dup)?.code).toBe("TASK_EXISTS");
});
