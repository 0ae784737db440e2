import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY } from "./fixtures/tiered";
import { freshTiered, q, r2Keys } from "./tiering-helpers";

type Stub = ReturnType<typeof freshTiered>["stub"];

const scheduled = {
  stepBudgetMs: 1,
  chunkRows: 2_000,
  archive: [
    { table: "readings", timeColumn: "ts", olderThan: "1d", partition: "day" as const, every: 3_600_000 },
  ],
  backup: { every: 86_400_000, keep: 2 },
};

/**
 * Make the named tiering schedules due now and run the alarm once (it may also have fired on its
 * own meanwhile: a resume is booked a second ahead, so the result is not asserted).
 */
async function fire(stub: Stub, ...keys: string[]): Promise<void> {
  await runInDurableObject(stub, (a) => {
    for (const key of keys)
      a.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = ? AND status = 'scheduled'", [
        Date.now() - 1,
        key,
      ]);
  });
  await runDurableObjectAlarm(stub);
}

/** Run the resume task until no tiering job is left; returns how many runs it took. */
async function drain(stub: Stub): Promise<number> {
  let runs = 0;
  for (;;) {
    const { jobs, resume } = await runInDurableObject(stub, (a) => ({
      jobs: a.tiering.jobs().length,
      resume: a.schedule.get("tiering:resume"),
    }));
    if (jobs === 0) return runs;
    expect(resume).toBeDefined(); // an unfinished step always books its continuation
    await fire(stub, "tiering:resume");
    expect(++runs).toBeLessThan(40);
  }
}

describe("scheduled tiering", () => {
  it("archives and backs up from the alarm in resumable steps, keeping `keep` backups", async () => {
    const { name, stub } = freshTiered("sched", scheduled);
    const now = Date.now();
    await stub.seedReadings(6_000, now - 5 * DAY, 3 * DAY);
    await stub.seedReadings(50, now - DAY / 2, DAY / 4, 10_000);
    const keys = await runInDurableObject(stub, (a) => a.schedule.list().map((s) => s.key));
    expect(keys.sort()).toEqual(["tiering:archive:readings", "tiering:backup"]);

    await fire(stub, "tiering:archive:readings");
    expect(await drain(stub)).toBeGreaterThanOrEqual(2);
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 50 }]);
    const files = await runInDurableObject(stub, (a) => a.tiering.manifest("readings"));
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(6_000);

    const backups: string[] = [];
    for (let i = 0; i < 3; i++) {
      await fire(stub, "tiering:backup");
      await drain(stub);
      const listed = await runInDurableObject(stub, (a) => a.tiering.backups().map((b) => b.key));
      backups.push(listed[0]);
    }
    expect(new Set(backups).size).toBe(3);
    expect(await runInDurableObject(stub, (a) => a.tiering.backups().map((b) => b.key))).toEqual([
      backups[2],
      backups[1],
    ]);
    const stored = (await r2Keys(`archive/${name}/_backups/`)).filter((k) => k.endsWith("backup.json"));
    expect(stored.sort()).toEqual([backups[1], backups[2]].sort());
    // The recurring schedules are still there, with no dead letters.
    const after = await runInDurableObject(stub, (a) => a.schedule.list());
    expect(after.filter((s) => s.status === "failed")).toEqual([]);
    expect(
      after
        .map((s) => s.key)
        .filter((k) => k !== "tiering:resume")
        .sort(),
    ).toEqual(["tiering:archive:readings", "tiering:backup"]);
  });

  it("a scheduled archive that meets an R2 failure is retried by the scheduler and keeps its rows", async () => {
    const { stub } = freshTiered("schedfail", { ...scheduled, stepBudgetMs: 10_000 });
    await stub.seedReadings(3_000, Date.now() - 4 * DAY, DAY);
    await runInDurableObject(stub, (a) => {
      a.tiering.store().hooks = {
        beforePut: () => {
          throw new Error("R2 is down");
        },
      };
    });
    await fire(stub, "tiering:archive:readings");
    const task = await runInDurableObject(stub, (a) => a.schedule.get("tiering:archive:readings"));
    expect(task).toMatchObject({ status: "scheduled", attempts: 1 });
    expect(task?.lastError).toContain("ARCHIVE_UNAVAILABLE");
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 3_000 }]);

    await runInDurableObject(stub, (a) => {
      a.tiering.store().hooks = undefined;
    });
    await fire(stub, "tiering:archive:readings");
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 0 }]);
    expect(await runInDurableObject(stub, (a) => a.tiering.jobs())).toEqual([]);
  });

  it("rejects a malformed schedule in the config when the actor is defined", async () => {
    const { defineActor } = await import("../src/index");
    const { tiering } = await import("../src/tiering/index");
    const bad = (config: unknown) => () => defineActor({ schema: {}, tiering: tiering(config as never) });
    // A plain config object (not made by tiering()) is refused too, saying where tiering() lives.
    expect(() => defineActor({ schema: {}, tiering: {} as never })).toThrow(/dosql-actors\/tiering/);
    expect(bad({ backup: { every: 1000, keep: 0 } })).toThrow(/keep/);
    expect(bad({ archive: [{ ...scheduled.archive[0], olderThan: 5 }] })).toThrow(/olderThan/);
    expect(bad({ archive: [{ ...scheduled.archive[0], every: -1 }] })).toThrow(/every/);
    expect(bad({ archive: [scheduled.archive[0], scheduled.archive[0]] })).toThrow(/twice/);
    expect(bad({ chunkRows: 0 })).toThrow(/chunkRows/);
  });
});
