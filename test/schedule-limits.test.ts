import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handlerLimit } from "../src/schedule";
import type { LongLeaseActor, RunRow } from "./fixtures/scheduled-actors";

// The scheduler's limits: batchSize across alarm handlers that stopped waiting for their runs, and
// the last date the alarm takes for the next run of an interval task.
let seq = 0;
const fresh = (prefix: string) => env.LONG_LEASE.getByName(`${prefix}-${Date.now()}-${seq++}`);
type Stub = ReturnType<typeof fresh>;
const inActor = <R>(stub: Stub, fn: (actor: LongLeaseActor, state: DurableObjectState) => R | Promise<R>) =>
  runInDurableObject(stub, fn);
const runsOf = (stub: Stub, method?: string): Promise<RunRow[]> => inActor(stub, (a) => a.runs(method));
const waitFor = <T>(fn: () => Promise<T>, timeout = 15_000) => vi.waitFor(fn, { timeout, interval: 50 });
/** 2199-12-31T23:59:59.999Z, the last time the Durable Object alarm takes. */
const MAX_TIME = Date.UTC(2200, 0, 1) - 1;

const mostAtOnce = (rows: RunRow[]) => {
  let running = 0;
  let most = 0;
  for (const row of rows) {
    if (row.method === "slow:start") running++;
    else if (row.method === "slow:end") running--;
    most = Math.max(most, running);
  }
  return most;
};

describe("batchSize across alarm handlers", () => {
  const saved = handlerLimit.maxMs;
  afterEach(() => {
    handlerLimit.maxMs = saved;
  });

  it("after a handler stopped waiting (its 10-minute limit), the next alarm starts no more than batchSize tasks", async () => {
    // The handler's 10-minute limit, shortened (it is the same code path): the handler returns
    // while its 25 runs (the fixture's batchSize) go on, and the alarm it leaves fires at once for
    // the 15 tasks still due.
    handlerLimit.maxMs = 200;
    const stub = fresh("handler-limit");
    await inActor(stub, (actor) => {
      const past = Date.now() - 1_000;
      for (let i = 0; i < 40; i++) actor.schedule.at(new Date(past + i), "slow", 1_500);
    });
    await waitFor(async () => expect(await runsOf(stub, "slow:end")).toHaveLength(40), 30_000);
    expect(mostAtOnce(await runsOf(stub))).toBeLessThanOrEqual(25);
    await waitFor(async () => expect(await inActor(stub, (a) => a.schedule.list())).toEqual([]));
  });
});

/**
 * An interval task due now whose next run falls after 2199: the state a task created in 2100 with
 * a 90-year interval reaches at its first run. Time cannot be moved forward here, so the table is
 * set to that state (its interval and its due time); the run itself is the real alarm's.
 */
function farInterval(actor: LongLeaseActor, method: "record" | "failAlways", key: string, maxAttempts = 3) {
  const t = actor.schedule.every(60_000, method, key, { key, maxAttempts });
  const due = Date.now() - 5;
  actor.query("UPDATE _dosql_schedules SET interval_ms = ?, next_run_at = ? WHERE id = ?", [
    MAX_TIME - due + 86_400_000,
    due,
    t.id,
  ]);
  return t;
}

describe("the next run of an interval task and the last date the alarm takes", () => {
  it("an interval task whose next run would be after 2199 is dead-lettered with a clear error, not stored unarmable", async () => {
    const stub = fresh("interval-max");
    const task = await inActor(stub, (actor) => farInterval(actor, "record", "far"));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await runsOf(stub, "record")).map((r) => r.payload)).toEqual(["far"]);
    const after = await inActor(stub, (actor) => actor.schedule.get(task.id));
    // Never a next run the alarm cannot take.
    expect(after).toBeDefined();
    expect(after!.nextRunAt).toBeLessThanOrEqual(MAX_TIME);
    expect(after!.status).toBe("failed");
    expect(after!.lastError).toMatch(/INVALID_SCHEDULE/);
    expect(after!.lastError).toMatch(/2199/);
    // The alarm agrees with the table: nothing left to wake for.
    expect(await inActor(stub, (_a, state) => state.storage.getAlarm())).toBeNull();
  });

  it("an interval task whose retry exhausts its attempts with the next run past 2199 is dead-lettered without an unarmable copy", async () => {
    const stub = fresh("interval-max-fail");
    const task = await inActor(stub, (actor) => farInterval(actor, "failAlways", "far-fail", 1));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const all = await inActor(stub, (actor) => actor.schedule.list());
    for (const row of all) expect(row.nextRunAt).toBeLessThanOrEqual(MAX_TIME);
    expect(all.filter((r) => r.status === "scheduled")).toEqual([]);
    expect(all.some((r) => r.id === task.id || r.key === "far-fail")).toBe(true);
    expect(await inActor(stub, (_a, state) => state.storage.getAlarm())).toBeNull();
  });
});
