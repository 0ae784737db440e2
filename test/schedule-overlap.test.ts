import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ActorError } from "../src/index";
import type { LongLeaseActor, RunRow } from "./fixtures/scheduled-actors";

// Issue 11: a slow task must not delay the tasks that come due while it runs, a cancel is final
// even while the task runs, and every malformed payload gets a typed error.
let seq = 0;
const fresh = (prefix: string) => env.LONG_LEASE.getByName(`${prefix}-${Date.now()}-${seq++}`);
type Stub = ReturnType<typeof fresh>;
const inActor = <R>(stub: Stub, fn: (actor: LongLeaseActor) => R | Promise<R>) =>
  runInDurableObject(stub, fn);
const runsOf = (stub: Stub, method?: string): Promise<RunRow[]> => inActor(stub, (a) => a.runs(method));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const waitFor = <T>(fn: () => Promise<T>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });

describe("a slow task never delays the others", () => {
  it("a 300 ms task runs within 100 ms of its due time while a 3 s task runs", async () => {
    const stub = fresh("overlap");
    const fast = await inActor(stub, (actor) => {
      actor.schedule.at(0, "slow", 3_000);
      return actor.schedule.at(300, "record", "fast");
    });
    const [run] = await waitFor(async () => {
      const rows = await runsOf(stub, "record");
      expect(rows).toHaveLength(1);
      return rows;
    });
    const [slowStart] = await runsOf(stub, "slow:start");
    // The two overlap: the fast one ran while the slow one was still running.
    expect((await runsOf(stub, "slow:end")).length).toBe(0);
    expect(slowStart.at).toBeLessThan(run.at);
    expect(run.at - fast.nextRunAt).toBeGreaterThanOrEqual(0);
    expect(run.at - fast.nextRunAt).toBeLessThan(100);
    await waitFor(async () => expect(await runsOf(stub, "slow:end")).toHaveLength(1));
    await waitFor(async () => expect(await inActor(stub, (a) => a.schedule.list())).toEqual([]));
  });

  it("a task scheduled while a slow one runs still runs on time", async () => {
    const stub = fresh("overlap-late");
    await inActor(stub, (actor) => actor.schedule.at(0, "slow", 2_000));
    await waitFor(async () => expect(await runsOf(stub, "slow:start")).toHaveLength(1));
    const fast = await inActor(stub, (actor) => actor.schedule.at(200, "record", "late"));
    const [run] = await waitFor(async () => {
      const rows = await runsOf(stub, "record");
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect((await runsOf(stub, "slow:end")).length).toBe(0);
    expect(run.at - fast.nextRunAt).toBeLessThan(100);
    await waitFor(async () => expect(await runsOf(stub, "slow:end")).toHaveLength(1));
  });
});

describe("cancel is final", () => {
  it("cancelling a recurring task while its attempt runs: the failing attempt brings nothing back", async () => {
    const stub = fresh("cancel-running");
    await inActor(stub, (actor) =>
      actor.schedule.every(60_000, "slowFail", 400, { key: "doomed", maxAttempts: 1 }),
    );
    await inActor(stub, (actor) =>
      actor.query("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'doomed'", [Date.now()]),
    );
    await runInDurableObject(stub, (_actor, state) => state.storage.setAlarm(Date.now() + 1));
    await waitFor(async () => expect(await runsOf(stub, "slowFail:start")).toHaveLength(1));
    expect(await inActor(stub, (actor) => actor.schedule.cancel("doomed"))).toBe(true);
    await waitFor(async () => expect(await runsOf(stub, "slowFail:end")).toHaveLength(1));
    await sleep(200);
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
  });

  it("cancelling a one-off task while it runs and fails: no retry, no dead letter", async () => {
    const stub = fresh("cancel-once");
    const task = await inActor(stub, (actor) => actor.schedule.at(0, "slowFail", 300));
    await waitFor(async () => expect(await runsOf(stub, "slowFail:start")).toHaveLength(1));
    expect(await inActor(stub, (actor) => actor.schedule.cancel(task.id))).toBe(true);
    await waitFor(async () => expect(await runsOf(stub, "slowFail:end")).toHaveLength(1));
    await sleep(500);
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
    expect(await runsOf(stub, "slowFail:start")).toHaveLength(1);
  });
});

describe("payload validation", () => {
  const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown) => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = wrap(v);
    return v;
  };
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
    }
    return undefined;
  };

  it("a deeply nested payload (40 KB) gets INVALID_JSON, not a RangeError", async () => {
    const stub = fresh("deep");
    const codes = await inActor(stub, (actor) => ({
      arrays: codeOf(() =>
        actor.schedule.at(
          10,
          "record",
          nested(20_000, 1, (x) => [x]),
        ),
      ),
      objects: codeOf(() =>
        actor.schedule.at(
          10,
          "record",
          nested(8_000, 1, (x) => ({ a: x })),
        ),
      ),
      veryDeep: codeOf(() =>
        actor.schedule.at(
          10,
          "record",
          nested(200_000, null, (x) => [x]),
        ),
      ),
      throwingGetter: codeOf(() =>
        actor.schedule.at(10, "record", {
          get boom() {
            throw new Error("getter");
          },
        }),
      ),
      symbolValue: codeOf(() => actor.schedule.at(10, "record", { s: Symbol("x") })),
      // biome-ignore lint/suspicious/noSparseArray: a hole is what this case checks
      sparse: codeOf(() => actor.schedule.at(10, "record", [1, , 3])),
      // A JSON document nested as deep as the limit allows is still accepted.
      atLimit: codeOf(() =>
        actor.schedule.at(
          10,
          "record",
          nested(64, 1, (x) => [x]),
        ),
      ),
    }));
    expect(codes).toEqual({
      arrays: "INVALID_JSON",
      objects: "INVALID_JSON",
      veryDeep: "INVALID_JSON",
      throwingGetter: "INVALID_JSON",
      symbolValue: "INVALID_JSON",
      sparse: "INVALID_JSON",
      atLimit: undefined,
    });
    expect((await inActor(stub, (actor) => actor.schedule.list())).length).toBe(1);
  });
});
