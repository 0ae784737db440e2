import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { ActorError, nextCronTime } from "../src/index";
import { wakeInterval } from "./fixtures/scheduled-actors";
import { alarmOf, codeOf, fresh, inActor, listOf, name, runsOf, sleep, waitFor } from "./schedule-helpers";

afterEach(() => {
  wakeInterval.current = 60_000;
});

describe("schedule.at", () => {
  it("runs one-off tasks in time order with their payloads, sync and async methods alike", async () => {
    const stub = fresh("order");
    const created = await inActor(stub, (actor) => {
      const now = Date.now();
      return [
        actor.schedule.at(450, "record", { n: 3 }),
        actor.schedule.at(new Date(now + 150), "asyncRecord", { n: 1, nested: ["a", null, true] }),
        actor.schedule.at(300, "record", { n: 2 }),
      ];
    });
    expect(await alarmOf(stub)).toBe(Math.min(...created.map((s) => s.nextRunAt)));
    const runs = await waitFor(async () => {
      const rows = await runsOf(stub);
      expect(rows).toHaveLength(3);
      return rows;
    });
    expect(runs.map((r) => [r.method, r.payload])).toEqual([
      ["asyncRecord", { n: 1, nested: ["a", null, true] }],
      ["record", { n: 2 }],
      ["record", { n: 3 }],
    ]);
    const dueAt = [created[1], created[2], created[0]].map((s) => s.nextRunAt);
    for (const [i, run] of runs.entries()) expect(run.at).toBeGreaterThanOrEqual(dueAt[i]);
    expect(await listOf(stub)).toEqual([]);
    expect(await alarmOf(stub)).toBeNull();
  });

  it("many overdue tasks all run, in due order, a batch per alarm", async () => {
    const stub = fresh("batch");
    await inActor(stub, (actor) => {
      const start = Date.now() - 10_000;
      // Scheduled out of order, all overdue: 120 tasks, batches of 25.
      for (let i = 119; i >= 0; i--) actor.schedule.at(new Date(start + i), "record", i);
    });
    await waitFor(async () => expect(await runsOf(stub)).toHaveLength(120));
    expect((await runsOf(stub)).map((r) => r.payload)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    expect(await listOf(stub)).toEqual([]);
  });

  it("keeps the alarm at the earliest due task after every schedule, cancel and run", async () => {
    const stub = fresh("alarm");
    const late = await inActor(stub, (actor) => actor.schedule.at(20_000, "record", "late"));
    expect(await alarmOf(stub)).toBe(late.nextRunAt);
    const early = await inActor(stub, (actor) => actor.schedule.at(10_000, "record", "early"));
    expect(await alarmOf(stub)).toBe(early.nextRunAt);
    expect(await inActor(stub, (actor) => actor.schedule.cancel(early.id))).toBe(true);
    expect(await alarmOf(stub)).toBe(late.nextRunAt);
    expect(await inActor(stub, (actor) => actor.schedule.cancel(early.id))).toBe(false);

    const soon = await inActor(stub, (actor) => actor.schedule.at(200, "record", "soon", { key: "soon" }));
    expect(await alarmOf(stub)).toBe(soon.nextRunAt);
    await waitFor(async () => expect((await runsOf(stub)).map((r) => r.payload)).toEqual(["soon"]));
    // After the run, the alarm moved on to the next task.
    expect(await alarmOf(stub)).toBe(late.nextRunAt);

    expect(await inActor(stub, (actor) => actor.schedule.cancel(late.id))).toBe(true);
    expect(await alarmOf(stub)).toBeNull();
  });

  it("with a key, scheduling again replaces the one-off task", async () => {
    const stub = fresh("at-key");
    const first = await inActor(stub, (actor) => actor.schedule.at(10_000, "record", 1, { key: "remind" }));
    const second = await inActor(stub, (actor) => actor.schedule.at(20_000, "record", 2, { key: "remind" }));
    expect(second.id).toBe(first.id);
    const list = await listOf(stub);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ key: "remind", payload: 2, nextRunAt: second.nextRunAt });
    expect(await alarmOf(stub)).toBe(second.nextRunAt);
    expect(await inActor(stub, (actor) => actor.schedule.cancel("remind"))).toBe(true);
    expect(await listOf(stub)).toEqual([]);
  });

  it("a schedule or cancel inside a rolled-back transaction leaves tasks and alarm as they were", async () => {
    const stub = fresh("rollback");
    const kept = await inActor(stub, (actor) => actor.schedule.at(30_000, "record", "kept"));
    await inActor(stub, async (actor) => {
      expect(() =>
        actor.transaction(() => {
          actor.schedule.cancel(kept.id);
          actor.schedule.at(1_000, "record", "rolled back");
          throw new ActorError("ON_PURPOSE", "roll back");
        }),
      ).toThrow(/roll back/);
    });
    const list = await listOf(stub);
    expect(list.map((s) => s.payload)).toEqual(["kept"]);
    expect(await alarmOf(stub)).toBe(kept.nextRunAt);
  });
});

describe("schedule.every", () => {
  it("with the same key on every wake keeps one task and its next run time; new settings replace it", async () => {
    const stub = env.EVERY_WAKE.getByName(name("wake"));
    const first = await runInDurableObject(stub, (actor) => actor.schedule.list());
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ key: "tick", method: "tick", kind: "every", intervalMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      await evictDurableObject(stub);
      const again = await runInDurableObject(stub, async (actor, state) => ({
        list: actor.schedule.list(),
        alarm: await state.storage.getAlarm(),
      }));
      expect(again.list).toHaveLength(1);
      expect(again.list[0].id).toBe(first[0].id);
      expect(again.list[0].nextRunAt).toBe(first[0].nextRunAt);
      expect(again.alarm).toBe(first[0].nextRunAt);
    }

    wakeInterval.current = 30_000;
    await evictDurableObject(stub);
    const changed = await runInDurableObject(stub, (actor) => actor.schedule.list());
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ id: first[0].id, intervalMs: 30_000 });
    expect(changed[0].nextRunAt).toBeLessThan(first[0].nextRunAt);

    wakeInterval.current = "0 * * * *";
    await evictDurableObject(stub);
    const cron = await runInDurableObject(stub, async (actor, state) => ({
      list: actor.schedule.list(),
      alarm: await state.storage.getAlarm(),
    }));
    expect(cron.list).toHaveLength(1);
    expect(cron.list[0]).toMatchObject({ kind: "cron", cron: "0 * * * *", intervalMs: null });
    expect(new Date(cron.list[0].nextRunAt).getUTCMinutes()).toBe(0);
    expect(cron.alarm).toBe(cron.list[0].nextRunAt);
  });

  it("concurrent calls with one key make one task", async () => {
    const stub = fresh("concurrent");
    const ids = await Promise.all(Array.from({ length: 20 }, () => stub.startTicking(60_000)));
    expect(new Set(ids).size).toBe(1);
    const list = await listOf(stub);
    expect(list).toHaveLength(1);
    expect(await alarmOf(stub)).toBe(list[0].nextRunAt);
  });

  it("without a key, an identical call reuses the task and a different one adds a task", async () => {
    const stub = fresh("no-key");
    const [a, b, c] = await inActor(stub, (actor) => [
      actor.schedule.every(60_000, "record", { x: 1 }),
      actor.schedule.every(60_000, "record", { x: 1 }),
      actor.schedule.every(60_000, "record", { x: 2 }),
    ]);
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
    expect(await listOf(stub)).toHaveLength(2);
  });

  it("runs on its interval, and a task overdue by many intervals runs once on wake", async () => {
    const stub = fresh("interval");
    const fast = await inActor(stub, (actor) =>
      actor.schedule.every(150, "tick", undefined, { key: "fast" }),
    );
    await waitFor(async () => expect((await runsOf(stub, "tick")).length).toBeGreaterThanOrEqual(3));
    const ticks = await runsOf(stub, "tick");
    // Never early: the i-th run is at or after the i-th due time (a late run keeps the phase).
    for (const [i, tick] of ticks.entries()) expect(tick.at).toBeGreaterThanOrEqual(fast.nextRunAt + i * 150);
    await inActor(stub, (actor) => actor.schedule.cancel("fast"));

    // The actor "slept" through ten intervals of a minute: the task runs once, then keeps its phase.
    const slept = await inActor(stub, (actor) => {
      const task = actor.schedule.every(60_000, "tick", undefined, { key: "slow" });
      const due = Date.now() - 10 * 60_000 - 5;
      actor.query("UPDATE _dosql_schedules SET next_run_at = ? WHERE id = ?", [due, task.id]);
      return { id: task.id, due };
    });
    const before = (await runsOf(stub, "tick")).length;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await runsOf(stub, "tick")).length).toBe(before + 1);
    const task = await inActor(stub, (actor) => actor.schedule.get(slept.id));
    expect(task?.nextRunAt).toBe(slept.due + 11 * 60_000);
    expect(task?.runs).toBe(1);
    expect(task!.nextRunAt - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it("a task that cancels itself while running is not brought back", async () => {
    const stub = fresh("self-cancel");
    await inActor(stub, (actor) => actor.schedule.every(100, "cancelSelf", "me", { key: "me" }));
    await waitFor(async () => expect(await runsOf(stub, "cancelSelf")).toHaveLength(1));
    await sleep(400);
    expect(await runsOf(stub, "cancelSelf")).toHaveLength(1);
    expect(await listOf(stub)).toEqual([]);
    expect(await alarmOf(stub)).toBeNull();
  });
});

describe("failures", () => {
  it("a throwing task is retried with backoff, then dead-lettered, while another task still runs on time", async () => {
    const stub = fresh("dead");
    const failing = await inActor(stub, (actor) => {
      actor.schedule.every(120, "tick", undefined, { key: "tick" });
      return actor.schedule.at(0, "failAlways", { order: 7 });
    });
    const dead = await waitFor(async () => {
      const failed = await inActor(stub, (actor) => actor.schedule.list({ status: "failed" }));
      expect(failed).toHaveLength(1);
      return failed[0];
    });
    expect(dead).toMatchObject({ id: failing.id, method: "failAlways", payload: { order: 7 }, attempts: 3 });
    expect(dead.lastError).toContain("always fails");

    const attempts = await runsOf(stub, "failAlways");
    expect(attempts).toHaveLength(3);
    const gaps = [attempts[1].at - attempts[0].at, attempts[2].at - attempts[1].at];
    expect(gaps[0]).toBeGreaterThanOrEqual(100); // backoffMs
    expect(gaps[1]).toBeGreaterThanOrEqual(200); // doubled
    // The recurring task kept running between the failed attempts.
    const ticks = await runsOf(stub, "tick");
    expect(ticks.filter((t) => t.at > attempts[0].at && t.at < attempts[2].at).length).toBeGreaterThanOrEqual(
      1,
    );
    expect(await inActor(stub, (actor) => actor.schedule.get("tick")?.status)).toMatch(/scheduled|running/);

    // A dead letter stays put (no retries, no alarm for it) until retried or cancelled.
    await sleep(500);
    expect(await runsOf(stub, "failAlways")).toHaveLength(3);
    const revived = await inActor(stub, (actor) => actor.schedule.retry(failing.id));
    expect(revived).toMatchObject({ status: "scheduled", attempts: 0 });
    await waitFor(async () => expect((await runsOf(stub, "failAlways")).length).toBeGreaterThanOrEqual(4));
    await inActor(stub, (actor) => actor.schedule.cancel("tick"));
  });

  it("a task that fails twice then succeeds is done, not dead-lettered", async () => {
    const stub = fresh("flaky");
    await inActor(stub, (actor) => actor.schedule.at(0, "failTwice"));
    await waitFor(async () => expect(await listOf(stub)).toEqual([]));
    expect(await runsOf(stub, "failTwice")).toHaveLength(3);
  });

  it("a recurring task's failed run is dead-lettered as a copy and the task goes on", async () => {
    const stub = fresh("recurring-dead");
    const task = await inActor(stub, (actor) =>
      actor.schedule.every(60_000, "failAlways", "r", { key: "r", maxAttempts: 2 }),
    );
    await inActor(stub, (actor) =>
      actor.query("UPDATE _dosql_schedules SET next_run_at = ? WHERE id = ?", [Date.now() - 1, task.id]),
    );
    expect(await runDurableObjectAlarm(stub)).toBe(true); // first attempt now; the retry re-arms the alarm
    const failed = await waitFor(async () => {
      const rows = await inActor(stub, (actor) => actor.schedule.list({ status: "failed" }));
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(failed).toMatchObject({ failedFrom: task.id, key: null, attempts: 2, payload: "r" });
    const original = await inActor(stub, (actor) => actor.schedule.get("r"));
    expect(original).toMatchObject({ id: task.id, status: "scheduled", attempts: 0 });
    expect(original!.nextRunAt).toBeGreaterThan(Date.now());
    expect(await alarmOf(stub)).toBe(original!.nextRunAt);
  });

  it("schedules survive eviction, and a lost alarm is re-armed from the table on wake", async () => {
    const stub = fresh("evict");
    const [later, soon] = await inActor(stub, (actor) => [
      actor.schedule.at(60_000, "record", "later"),
      actor.schedule.at(1_000, "record", "soon"),
    ]);
    // Lose the alarm, as local workerd does across a reload (workerd #3566), then restart.
    await inActor(stub, (_actor, state) => state.storage.deleteAlarm());
    await evictDurableObject(stub);
    expect(await alarmOf(stub)).toBe(soon.nextRunAt);
    await waitFor(async () => expect((await runsOf(stub)).map((r) => r.payload)).toEqual(["soon"]));
    await evictDurableObject(stub);
    expect((await listOf(stub)).map((s) => s.id)).toEqual([later.id]);
    expect(await alarmOf(stub)).toBe(later.nextRunAt);
  });

  it("while tasks run the alarm is held as a backup; a task that crashes the isolate mid-run is retried", async () => {
    const actorName = name("crash");
    const stub = () => env.SCHEDULED.getByName(actorName); // a stub is unusable after its object aborts
    await inActor(stub(), (actor) => actor.schedule.at(100, "slow", 600));
    const started = await waitFor(async () => {
      const rows = await runsOf(stub(), "slow:start");
      expect(rows).toHaveLength(1);
      return rows[0].at;
    });
    const backup = await alarmOf(stub());
    expect(backup).toBeGreaterThanOrEqual(started + 1_500 - 200); // leaseMs
    expect(backup).toBeLessThanOrEqual(started + 1_500 + 200);
    await waitFor(async () => expect(await runsOf(stub(), "slow:end")).toHaveLength(1));
    expect(await alarmOf(stub())).toBeNull();

    await inActor(stub(), (actor) => actor.schedule.at(200, "crashOnce"));
    const calls = await waitFor(async () => {
      const rows = await runsOf(stub(), "crashOnce");
      expect(rows).toHaveLength(2);
      return rows;
    });
    expect(calls.map((c) => c.payload)).toEqual([0, 1]);
    await waitFor(async () => expect(await listOf(stub())).toEqual([]));
  });
});

describe("cron", () => {
  it("computes next-run times in UTC across month, leap-day and year boundaries", () => {
    expect(nextCronTime("0 0 1 * *", Date.UTC(2027, 0, 31, 23, 59, 59))).toBe(Date.UTC(2027, 1, 1));
    // The 31st at 23:30: February and April have none.
    expect(nextCronTime("30 23 31 * *", Date.UTC(2027, 0, 31, 23, 31))).toBe(Date.UTC(2027, 2, 31, 23, 30));
    expect(nextCronTime("30 23 31 * *", Date.UTC(2027, 2, 31, 23, 31))).toBe(Date.UTC(2027, 4, 31, 23, 30));
    expect(nextCronTime("0 12 * * *", Date.UTC(2027, 1, 28, 13))).toBe(Date.UTC(2027, 2, 1, 12));
    expect(nextCronTime("0 12 * * *", Date.UTC(2028, 1, 28, 13))).toBe(Date.UTC(2028, 1, 29, 12));
    expect(nextCronTime("0 0 1 1 *", Date.UTC(2027, 11, 31, 12))).toBe(Date.UTC(2028, 0, 1));
    expect(nextCronTime("*/15 * * * *", Date.UTC(2027, 5, 30, 23, 50))).toBe(Date.UTC(2027, 6, 1, 0, 0));
    // Strictly after: a time that matches gives the following one.
    expect(nextCronTime("0 0 1 * *", Date.UTC(2027, 1, 1))).toBe(Date.UTC(2027, 2, 1));
  });

  it("a cron task is due at the next matching UTC time", async () => {
    const stub = fresh("cron");
    const task = await inActor(stub, (actor) =>
      actor.schedule.every("0 0 1 * *", "tick", undefined, { key: "monthly" }),
    );
    const now = new Date();
    expect(task.nextRunAt).toBe(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    expect(await alarmOf(stub)).toBe(task.nextRunAt);
  });
});

describe("bad input", () => {
  it("is refused with a typed error and nothing is stored", async () => {
    const stub = fresh("bad");
    const codes = await inActor(stub, (actor) => {
      const s = actor.schedule as unknown as {
        at(when: unknown, method: unknown, payload?: unknown, options?: unknown): unknown;
        every(every: unknown, method: unknown, payload?: unknown, options?: unknown): unknown;
        cancel(id: unknown): unknown;
      };
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return {
        negativeDelay: codeOf(() => s.at(-1, "record")),
        nanDelay: codeOf(() => s.at(Number.NaN, "record")),
        invalidDate: codeOf(() => s.at(new Date("nope"), "record")),
        stringWhen: codeOf(() => s.at("soon", "record")),
        unknownMethod: codeOf(() => s.at(10, "nope")),
        notAMethod: codeOf(() => s.at(10, "notAMethod")),
        constructorName: codeOf(() => s.at(10, "constructor")),
        fetchName: codeOf(() => s.at(10, "fetch")),
        alarmName: codeOf(() => s.at(10, "alarm")),
        objectProto: codeOf(() => s.at(10, "toString")),
        proto: codeOf(() => s.at(10, "__proto__")),
        nonStringMethod: codeOf(() => s.at(10, 42)),
        functionPayload: codeOf(() => s.at(10, "record", () => 1)),
        bigintPayload: codeOf(() => s.at(10, "record", { n: 10n })),
        cyclicPayload: codeOf(() => s.at(10, "record", cyclic)),
        datePayload: codeOf(() => s.at(10, "record", { when: new Date() })),
        nanPayload: codeOf(() => s.at(10, "record", [Number.NaN])),
        mapPayload: codeOf(() => s.at(10, "record", new Map())),
        hugePayload: codeOf(() => s.at(10, "record", "x".repeat(70_000))),
        zeroInterval: codeOf(() => s.every(0, "tick")),
        negativeInterval: codeOf(() => s.every(-5, "tick")),
        fractionalInterval: codeOf(() => s.every(1.5, "tick")),
        badCron: codeOf(() => s.every("not a cron", "tick")),
        outOfRangeCron: codeOf(() => s.every("61 * * * *", "tick")),
        neverCron: codeOf(() => s.every("0 0 30 2 *", "tick")),
        emptyKey: codeOf(() => s.every(1000, "tick", undefined, { key: "" })),
        longKey: codeOf(() => s.every(1000, "tick", undefined, { key: "k".repeat(300) })),
        badAttempts: codeOf(() => s.at(10, "record", undefined, { maxAttempts: 0 })),
        badOptions: codeOf(() => s.at(10, "record", undefined, "key")),
        emptyCancel: codeOf(() => s.cancel("")),
      };
    });
    expect(codes).toEqual({
      negativeDelay: "INVALID_SCHEDULE",
      nanDelay: "INVALID_SCHEDULE",
      invalidDate: "INVALID_SCHEDULE",
      stringWhen: "INVALID_SCHEDULE",
      unknownMethod: "UNKNOWN_METHOD",
      notAMethod: "UNKNOWN_METHOD",
      constructorName: "UNKNOWN_METHOD",
      fetchName: "UNKNOWN_METHOD",
      alarmName: "UNKNOWN_METHOD",
      objectProto: "UNKNOWN_METHOD",
      proto: "UNKNOWN_METHOD",
      nonStringMethod: "UNKNOWN_METHOD",
      functionPayload: "INVALID_JSON",
      bigintPayload: "INVALID_JSON",
      cyclicPayload: "INVALID_JSON",
      datePayload: "INVALID_JSON",
      nanPayload: "INVALID_JSON",
      mapPayload: "INVALID_JSON",
      hugePayload: "PAYLOAD_TOO_LARGE",
      zeroInterval: "INVALID_SCHEDULE",
      negativeInterval: "INVALID_SCHEDULE",
      fractionalInterval: "INVALID_SCHEDULE",
      badCron: "INVALID_CRON",
      outOfRangeCron: "INVALID_CRON",
      neverCron: "INVALID_CRON",
      emptyKey: "INVALID_SCHEDULE",
      longKey: "INVALID_SCHEDULE",
      badAttempts: "INVALID_SCHEDULE",
      badOptions: "INVALID_SCHEDULE",
      emptyCancel: "INVALID_SCHEDULE",
    });
    expect(await listOf(stub)).toEqual([]);
    expect(await alarmOf(stub)).toBeNull();
  });

  it("errors keep their code across RPC", async () => {
    const stub = fresh("bad-rpc");
    for (const [call, code] of [
      [() => stub.scheduleAt(-1, "record"), "INVALID_SCHEDULE"],
      [() => stub.scheduleAt(10, "nope"), "UNKNOWN_METHOD"],
    ] as const) {
      try {
        await call();
        expect.unreachable();
      } catch (err) {
        expect(ActorError.from(err)?.code).toBe(code);
        expect(ActorError.from(err)?.status).toBe(400);
      }
    }
    expect(await listOf(stub)).toEqual([]);
  });
});

describe("destroy", () => {
  it("cancels every schedule, deletes the alarm and storage; a run in flight cannot bring them back", async () => {
    const actorName = name("destroy");
    const stub = () => env.SCHEDULED.getByName(actorName);
    await inActor(stub(), (actor) => {
      actor.schedule.at(50, "slow", 500);
      actor.schedule.every(60_000, "tick", undefined, { key: "tick" });
    });
    await waitFor(async () => expect(await runsOf(stub(), "slow:start")).toHaveLength(1));
    await stub().destroy();
    await sleep(1_000); // the slow run would have finished and rescheduled by now
    const after = await inActor(stub(), async (actor, state) => ({
      alarm: await state.storage.getAlarm(),
      schedules: actor.schedule.list(),
      runs: actor.runs(),
    }));
    expect(after).toEqual({ alarm: null, schedules: [], runs: [] });
  });
});
