import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ActorError } from "../src/index";
import type { RunRow, ScheduledActor } from "./fixtures/scheduled-actors";

// The alarm handler when its batch is full, the recorded alarm against the real one, and the
// cadence of an interval task whose run was retried.
let seq = 0;
const fresh = (prefix: string) => env.SCHEDULED.getByName(`${prefix}-${Date.now()}-${seq++}`);
type Stub = ReturnType<typeof fresh>;
const inActor = <R>(stub: Stub, fn: (actor: ScheduledActor, state: DurableObjectState) => R | Promise<R>) =>
  runInDurableObject(stub, fn);
const runsOf = (stub: Stub, method?: string): Promise<RunRow[]> =>
  inActor(stub, (actor) => actor.runs(method));
const alarmOf = (stub: Stub) => inActor(stub, (_actor, state) => state.storage.getAlarm());
const waitFor = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 10_000, interval: 50 });

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
