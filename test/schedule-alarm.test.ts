import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ActorError } from "../src/index";
import type { ScheduledActor } from "./fixtures/scheduled-actors";
import { alarmOf, fresh, inActor, runsOf, type Stub, waitFor } from "./schedule-helpers";

// The alarm handler when its batch is full, the recorded alarm against the real one, and the
// cadence of an interval task whose run was retried.

/** An interval task made due at `due`, its first attempt run now; the retries follow on the real alarm. */
async function dueAt(stub: Stub, intervalMs: number, method: "failTwice" | "failAlways", maxAttempts = 3) {
  const due = Date.now() - 5;
  const task = await inActor(stub, (actor) => {
    const created = actor.schedule.every(intervalMs, method, undefined, { key: "cadence", maxAttempts });
    actor.query("UPDATE _dosql_schedules SET next_run_at = ? WHERE id = ?", [due, created.id]);
    return created;
  });
  expect(await runDurableObjectAlarm(stub)).toBe(true);
  return { id: task.id, due };
}

describe("a full batch", () => {
  it("due tasks beyond the batch wait for a run to end, not on a 0 ms timer, and all run in due order", async () => {
    const stub = fresh("full");
    // The test and its Durable Objects share one isolate: this counts the handler's timers too
    // (it only watches; every call goes through to the real setTimeout).
    const timers = vi.spyOn(globalThis, "setTimeout");
    try {
      await inActor(stub, (actor) => {
        const past = Date.now() - 1_000;
        // 40 overdue tasks of about 400 ms each, batches of 25 (the fixture's batchSize).
        for (let i = 0; i < 40; i++) actor.schedule.at(new Date(past + i), "slow", 400 + i);
      });
      await waitFor(async () => expect(await runsOf(stub, "slow:end")).toHaveLength(40));
      // While 25 ran, 15 were due: waking for them could only find the batch still full.
      const zeroDelay = timers.mock.calls.filter(([, ms]) => (ms ?? 0) <= 0).length;
      expect(zeroDelay).toBeLessThan(20);
    } finally {
      timers.mockRestore();
    }
    const rows = await runsOf(stub);
    expect(rows.filter((r) => r.method === "slow:start").map((r) => r.payload)).toEqual(
      Array.from({ length: 40 }, (_, i) => 400 + i),
    );
    // Never more than the batch at once; the 26th started as soon as one had ended.
    let running = 0;
    let most = 0;
    for (const row of rows) {
      running += row.method === "slow:start" ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(25);
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
    expect(await alarmOf(stub)).toBeNull();
  });
});

describe("the recorded alarm", () => {
  const rollBack = (actor: ScheduledActor, change: () => void) =>
    expect(() =>
      actor.transaction(() => {
        change();
        throw new ActorError("ON_PURPOSE", "roll back");
      }),
    ).toThrow(/roll back/);

  it("follows the real alarm after a rolled-back transaction: the same change again really sets it", async () => {
    const stub = fresh("rolled-back");
    const later = await inActor(stub, (actor) => actor.schedule.at(60_000, "record", "later"));
    // A setAlarm inside a transaction is rolled back with it. The same schedule made again right
    // after must still move the alarm, or the task would wait for the later one.
    const soon = await inActor(stub, (actor) => {
      const when = new Date(Date.now() + 300);
      rollBack(actor, () => actor.schedule.at(when, "record", "rolled back"));
      return actor.schedule.at(when, "record", "soon");
    });
    expect(await alarmOf(stub)).toBe(soon.nextRunAt);
    await waitFor(async () => expect((await runsOf(stub)).map((r) => r.payload)).toEqual(["soon"]));
    expect(await alarmOf(stub)).toBe(later.nextRunAt);

    // A cancel rolled back, then the same cancel: no task is left, nor an alarm.
    await inActor(stub, (actor) => {
      rollBack(actor, () => actor.schedule.cancel(later.id));
      expect(actor.schedule.cancel(later.id)).toBe(true);
    });
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
    expect(await alarmOf(stub)).toBeNull();
  });
});

describe("an interval task's cadence after a retry", () => {
  it("a run retried twice, then done: the next run is on the original cadence, not the retry's", async () => {
    const stub = fresh("cadence");
    const { id, due } = await dueAt(stub, 60_000, "failTwice");
    const task = await waitFor(async () => {
      const row = await inActor(stub, (actor) => actor.schedule.get(id));
      expect(row).toMatchObject({ runs: 1, attempts: 0, status: "scheduled" });
      return row!;
    });
    expect((await runsOf(stub, "failTwice")).length).toBe(3);
    // Due at :00 and retried 100 ms, then 200 ms later: the next run is still at :00.
    expect(task.nextRunAt).toBe(due + 60_000);
    expect(await alarmOf(stub)).toBe(task.nextRunAt);
  });

  it("retries that outlast the interval: the next run is the first time on the grid after the run", async () => {
    const stub = fresh("cadence-short");
    const { id, due } = await dueAt(stub, 200, "failTwice");
    // The task and its runs read together, between runs.
    const { task, last } = await waitFor(async () => {
      const seen = await inActor(stub, (actor) => ({
        task: actor.schedule.get(id)!,
        last: actor.runs("failTwice").at(-1)!.at,
      }));
      expect(seen.task).toMatchObject({ status: "scheduled", attempts: 0 });
      expect(seen.task.runs).toBeGreaterThanOrEqual(1);
      return seen;
    });
    await inActor(stub, (actor) => actor.schedule.cancel(id));
    expect((task.nextRunAt - due) % 200).toBe(0);
    expect(task.nextRunAt).toBeGreaterThan(last);
    expect(task.nextRunAt - last).toBeLessThanOrEqual(200);
  });

  it("a run dead-lettered after its retries: the copy keeps its due time, the task its cadence (a one-off its due time)", async () => {
    const stub = fresh("cadence-dead");
    const { id, due } = await dueAt(stub, 60_000, "failAlways", 2);
    const [copy] = await waitFor(async () => {
      const rows = await inActor(stub, (actor) => actor.schedule.list({ status: "failed" }));
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(copy).toMatchObject({ failedFrom: id, attempts: 2, nextRunAt: due });
    const task = await inActor(stub, (actor) => actor.schedule.get(id));
    expect(task).toMatchObject({ status: "scheduled", attempts: 0, nextRunAt: due + 60_000 });
    expect(await alarmOf(stub)).toBe(due + 60_000);

    // A one-off's dead letter too shows when the failed run was due, not its last retry.
    const once = fresh("once-dead");
    const oneOff = await inActor(once, (actor) =>
      actor.schedule.at(new Date(Date.now() - 5), "failAlways", "once", { maxAttempts: 2 }),
    );
    const dead = await waitFor(async () => {
      const rows = await inActor(once, (actor) => actor.schedule.list({ status: "failed" }));
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(dead).toMatchObject({ id: oneOff.id, attempts: 2, nextRunAt: oneOff.nextRunAt });
  });
});

it("a schedule table made before due_at gets the column on wake, and retries work", async () => {
  const stub = fresh("upgrade");
  await inActor(stub, (actor) => {
    actor.schedule.at(60_000, "record", "kept");
    actor.run("ALTER TABLE _dosql_schedules DROP COLUMN due_at");
  });
  await evictDurableObject(stub);
  const columns = await inActor(stub, (actor) =>
    actor
      .query<{ name: string }>("SELECT name FROM pragma_table_info('_dosql_schedules')")
      .map((c) => c.name),
  );
  expect(columns).toContain("due_at");
  const { id, due } = await dueAt(stub, 60_000, "failTwice");
  await waitFor(async () => expect((await inActor(stub, (actor) => actor.schedule.get(id)))?.runs).toBe(1));
  expect((await inActor(stub, (actor) => actor.schedule.get(id)))?.nextRunAt).toBe(due + 60_000);
});
