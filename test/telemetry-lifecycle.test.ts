import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { BuildingTelemetry, CentralTelemetry } from "../actors/index";
import { archiveBinding } from "./fixtures/telemetry";
import {
  type BuildingStub,
  building,
  call,
  codeOf,
  DAY,
  freshName,
  HOUR,
  hourlyChange,
  json,
  MINUTE,
  makeDue,
  reading,
  rows,
} from "./telemetry-helpers";

afterEach(() => {
  archiveBinding.current = "ARCHIVE";
});

/** Readings at known ages (one sensor per age), values multiples of 0.25 so every sum is exact. */
function aged(now: number) {
  const hourAgo = (h: number) => Math.floor((now - h * HOUR) / HOUR) * HOUR + 5 * MINUTE;
  const ages = { fresh: 1, day2: 48, day8: 8 * 24, day31: 31 * 24 };
  const out: ReturnType<typeof reading>[] = [];
  for (const [label, h] of Object.entries(ages)) {
    const t = hourAgo(h);
    out.push(
      reading(`s-${label}`, t, 10),
      reading(`s-${label}`, t + 1000, 12.5),
      reading(`s-${label}`, t + MINUTE, 15),
    );
  }
  return { out, at: (label: keyof typeof ages) => hourAgo(ages[label]) };
}

async function lifecycleByAlarm(stub: BuildingStub) {
  await makeDue(stub, "lifecycle");
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

const count = async (stub: BuildingStub, table: string) =>
  (await rows<{ n: number }>(stub, `SELECT count(*) AS n FROM ${table}`))[0].n;

async function archivedRows(stub: BuildingStub): Promise<number> {
  return runInDurableObject(stub, (actor: BuildingTelemetry) =>
    actor.tiering.manifest("readings").reduce((n, f) => n + f.rows, 0),
  );
}

describe("BuildingTelemetry: lifecycle on schedules", () => {
  it("runDurableObjectAlarm runs the lifecycle: exact rollups, raw archived by day, retention of minute and hourly, alerts to history", async () => {
    const name = freshName("life");
    const b = building(name);
    const now = Date.now();
    const { out, at } = aged(now);
    const rule = await b.createRule({
      sensorType: "temperature",
      sensorId: "hot",
      condition: "gt",
      thresholdValue: 100,
    });
    // A building takes readings only of hours it still keeps: the 31-day-old ones go in while its
    // hourly retention is 40 days, which then drops back to the default 30 for the lifecycle.
    await b.configure({ retention: { hourly: "40d" } });
    await b.ingestBatch(out);
    await b.configure({ retention: { hourly: "30d" } });
    // An alert raised and resolved three days ago, and one open. The old one's two readings sit at
    // the 5th and 6th minute of their hour: at `now - 3 days` they fell in two hours (and so two
    // hourly rows) whenever the test ran in the last minute of an hour.
    const old = Math.floor((now - 3 * DAY) / HOUR) * HOUR + 5 * MINUTE;
    await b.ingest(reading("hot", old, 150));
    await b.ingest(reading("hot", old + MINUTE, 50));
    await b.ingest(reading("hot", now - 1000, 150));
    const schedules = await runInDurableObject(b, (actor: BuildingTelemetry) =>
      actor.schedule.list().map((s) => s.key),
    );
    expect(schedules).toEqual(expect.arrayContaining(["rollup", "lifecycle"]));

    await lifecycleByAlarm(b);

    // Raw: only readings younger than 24 h stay; the rest are in R2, one file per day.
    expect(await rows(b, "SELECT sensor_id AS s, count(*) AS n FROM readings GROUP BY s ORDER BY s")).toEqual(
      [
        { s: "hot", n: 1 },
        { s: "s-fresh", n: 3 },
      ],
    );
    const manifest = await runInDurableObject(b, (actor: BuildingTelemetry) =>
      actor.tiering.manifest("readings"),
    );
    expect(manifest.reduce((n, f) => n + f.rows, 0)).toBe(9 + 2);
    const days = [at("day2"), at("day8"), at("day31"), old].map((t) =>
      new Date(t).toISOString().slice(0, 10),
    );
    expect(new Set(manifest.map((f) => f.partition))).toEqual(new Set(days));
    for (const f of manifest) expect(f.key.startsWith(`telemetry/${name}/readings/`)).toBe(true);
    // Minute aggregates: 7 days (day8 and day31 dropped; the resolved alert's minutes at 3 days stay).
    expect(
      await rows(b, "SELECT sensor_id AS s, sum(count) AS n FROM minute_aggregates GROUP BY s ORDER BY s"),
    ).toEqual([
      { s: "hot", n: 3 },
      { s: "s-day2", n: 3 },
      { s: "s-fresh", n: 3 },
    ]);
    // Hourly: 30 days (day31 dropped), every figure exact.
    expect(
      await rows(
        b,
        "SELECT sensor_id AS s, hour, min_value AS lo, max_value AS hi, sum_value AS sum, reading_count AS n, avg_value AS avg FROM hourly_aggregates WHERE sensor_id LIKE 's-%' ORDER BY s",
      ),
    ).toEqual(
      (["day2", "day8", "fresh"] as const).map((label) => ({
        s: `s-${label}`,
        hour: at(label) - 5 * MINUTE,
        lo: 10,
        hi: 15,
        sum: 37.5,
        n: 3,
        avg: 12.5,
      })),
    );
    // Alerts resolved more than a day ago moved to history; the open one stays.
    expect(await rows(b, "SELECT status, sensor_id AS s FROM active_alerts")).toEqual([
      { status: "ACTIVE", s: "hot" },
    ]);
    expect(
      await rows(b, "SELECT rule_id AS r, duration_seconds AS d, resolved_reason AS why FROM alert_history"),
    ).toEqual([{ r: rule.id, d: 60, why: "back in range" }]);
    // The task ran and is scheduled again.
    const task = await runInDurableObject(b, (actor: BuildingTelemetry) => actor.schedule.get("lifecycle"));
    expect(task?.status).toBe("scheduled");
    expect(task!.nextRunAt).toBeGreaterThan(Date.now());

    // Running it again changes nothing.
    await lifecycleByAlarm(b);
    expect(await count(b, "readings")).toBe(4);
    expect(await archivedRows(b)).toBe(11);
    expect(await count(b, "hourly_aggregates")).toBe(5);
  });

  it("a historical query gives the same answer before and after the readings are archived", async () => {
    const name = freshName("hist");
    const b = building(name);
    const now = Date.now();
    const readings = [];
    for (let d = 0; d < 5; d++)
      for (let i = 0; i < 40; i++)
        readings.push(reading(`h-${i % 3}`, now - d * DAY - i * MINUTE - 1000, (i % 17) * 0.25 + d));
    await b.ingestBatch(readings);
    const range = { start: now - 10 * DAY, end: now };
    const before = await b.historical(range);
    const beforeOne = await b.historical({ ...range, sensorId: "h-1" });
    expect(before.data.length).toBeGreaterThanOrEqual(15);
    expect(before.data.reduce((n, p) => n + p.count, 0)).toBe(200);
    await lifecycleByAlarm(b);
    expect(await archivedRows(b)).toBeGreaterThan(100);
    expect(await count(b, "readings")).toBeLessThan(100);
    expect(await b.historical(range)).toEqual(before);
    expect(await b.historical({ ...range, sensorId: "h-1" })).toEqual(beforeOne);
    const http = await json(
      call("GET", `/buildings/${name}/historical?start=${range.start}&end=${range.end}`),
    );
    expect(http.body).toEqual(before);
  });

  it.each([
    ["a missing binding (UNKNOWN_BUCKET before any put)", "NO_SUCH_BUCKET", "UNKNOWN_BUCKET"],
    ["a binding that is not R2 (the put itself fails)", "NOT_R2", "R2 put of telemetry/"],
  ])(
    "R2 failing during the archive loses nothing, %s: the hot tier goes on, the archive is retried after the fix",
    async (_what, binding, why) => {
      // See test/fixtures/telemetry.ts: the real tiering path fails, nothing is mocked.
      archiveBinding.current = binding;
      const name = freshName("offline");
      const b = env.OFFLINE_ARCHIVE_BUILDING.getByName(name) as unknown as BuildingStub;
      const now = Date.now();
      const { out } = aged(now);
      await b.createRule({
        sensorType: "temperature",
        condition: "gt",
        thresholdValue: 90,
        cooldownSeconds: 0,
      });
      await b.configure({ retention: { hourly: "40d" } }); // as above: the 31-day-old readings
      await b.ingestBatch(out);
      await b.configure({ retention: { hourly: "30d" } });
      const range = { start: now - 40 * DAY, end: now };
      const before = await b.historical(range);
      expect(before.data.reduce((n, p) => n + p.count, 0)).toBe(12);

      const direct = await codeOf(b.lifecycle());
      expect(direct.code).toBe("ARCHIVE_UNAVAILABLE");
      expect(direct.message).toContain(why);
      // The put reached the binding (KV stored the file but gave no R2 confirmation): not committed.
      const stray = async () => (await env.NOT_R2.list({ prefix: `telemetry/${name}/` })).keys.length;
      expect(await stray()).toBe(binding === "NOT_R2" ? 1 : 0);
      await lifecycleByAlarm(b);
      await vi.waitFor(
        async () => {
          const task = await runInDurableObject(b, (actor: BuildingTelemetry) =>
            actor.schedule.get("lifecycle"),
          );
          expect(task?.lastError).toContain("ARCHIVE_UNAVAILABLE");
        },
        { timeout: 5_000 },
      );
      // Nothing archived, nothing lost; retention of the aggregates still ran.
      expect(await count(b, "readings")).toBe(12);
      expect(await archivedRows(b)).toBe(0);
      expect(await count(b, "hourly_aggregates")).toBe(3);
      // The hot tier goes on: ingest, alerts, queries.
      const hot = await b.ingest(reading("s-fresh", now - 500, 95));
      expect(hot.alerts).toHaveLength(1);
      expect((await b.historical(range)).data.reduce((n, p) => n + p.count, 0)).toBe(13);

      // The binding is fixed (a deploy: a new instance reads the config) and the retry archives everything.
      archiveBinding.current = "ARCHIVE";
      await evictDurableObject(b);
      await lifecycleByAlarm(b);
      await vi.waitFor(async () => expect(await archivedRows(b)).toBe(9), { timeout: 5_000 });
      expect(await count(b, "readings")).toBe(4);
      const after = await b.historical(range);
      expect(after.data.reduce((n, p) => n + p.count, 0)).toBe(13);
      // The unconfirmed upload was removed before the retry.
      expect(await stray()).toBe(0);
      const withoutNew = await b.historical({ start: range.start, end: now - 1000 });
      expect(withoutNew).toEqual(before);
    },
  );
});

describe("CentralTelemetry: rollups forwarded by the buildings", () => {
  const central = () => env.CENTRAL_TELEMETRY.getByName("central");

  it("two buildings' hourly rollups reach the central actor exactly once each, and later syncs replace, never add", async () => {
    const names = [freshName("north"), freshName("south")];
    const hour = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    for (const [i, n] of names.entries()) {
      const b = building(n);
      await b.ingestBatch([
        reading("t-1", hour + 1000, 20 + i),
        reading("t-2", hour + 2000, 22 + i),
        reading("c-1", hour + 3000, 800, { sensorType: "co2", unit: "ppm" }),
      ]);
      const sync = await json(call("POST", `/admin/buildings/${n}/sync`));
      expect(sync.status).toBe(200);
      expect(sync.body.rolledUp).toEqual({ hours: 1, rows: 3 });
      expect(sync.body.forward).toMatchObject({ name: "central", state: "active", pending: 0 });
    }
    const figures = async () =>
      (
        await json(
          call("GET", `/central/buildings/rollups?from=${hour}&to=${hour + HOUR}&sensor_type=temperature`),
        )
      ).body.rollups.filter((r: { building: string }) => names.includes(r.building));
    const expected = (extra = 0) =>
      names.map((n, i) => ({
        building: n,
        sensorType: "temperature",
        hour: new Date(hour).toISOString(),
        readingCount: 2 + (i === 0 ? extra : 0),
        min: 20 + i,
        max: 22 + i + (i === 0 && extra ? 8 : 0),
        avg: i === 0 && extra ? (20 + 22 + 30) / 3 : 21 + i,
      }));
    expect(await figures()).toEqual(expected());
    // Exactly once: one row per building and sensor, applied LSN equal to the building's last.
    const c = central();
    for (const n of names) {
      const lsn = await runInDurableObject(building(n), (a: BuildingTelemetry) => a.history.status().lastLsn);
      const applied = await runInDurableObject(c, (a: CentralTelemetry) =>
        a.query<{ lsn: number }>("SELECT lsn FROM _dosql_applied WHERE source = ? AND forward = 'central'", [
          n,
        ]),
      );
      expect(applied).toEqual([{ lsn }]);
      const stored = await runInDurableObject(c, (a: CentralTelemetry) =>
        a.query(
          "SELECT sensor_id AS s, reading_count AS n FROM building_rollups WHERE building = ? ORDER BY s",
          [n],
        ),
      );
      expect(stored).toEqual([
        { s: "c-1", n: 1 },
        { s: "t-1", n: 1 },
        { s: "t-2", n: 1 },
      ]);
      // A redelivered batch (the whole range again) changes nothing.
      const again = await c.applyRollups({
        source: n,
        forward: "central",
        after: 0,
        from: 1,
        to: lsn,
        changes: [
          hourlyChange(lsn, 1, hour, { min_value: 0, max_value: 0, sum_value: 999, reading_count: 999 }),
        ],
      });
      expect(again.applied).toBe(false);
    }
    expect(await figures()).toEqual(expected());
    // A sync with nothing new sends nothing; more readings update the figures (replaced, not added).
    await call("POST", `/admin/buildings/${names[0]}/sync`);
    expect(await figures()).toEqual(expected());
    await building(names[0]).ingest(reading("t-1", hour + 5000, 30));
    await call("POST", `/admin/buildings/${names[0]}/sync`);
    expect(await figures()).toEqual(expected(1));
    // Bad batches are refused whole.
    const bad = await codeOf(
      c.applyRollups({
        source: "x",
        forward: "central",
        after: 0,
        from: 1,
        to: 1,
        changes: [
          {
            lsn: 1,
            tx: 1,
            at: 1,
            table: "hourly_aggregates",
            op: "insert",
            key: {},
            before: null,
            after: { sensor_id: 1 },
          },
        ],
      } as never),
    );
    expect(bad.code).toBe("VALIDATION_FAILED");
  });

  it("rollups before any building forwarded: an empty answer, no central storage created", async () => {
    // This file's central actor exists by now (the test above); a fresh isolate's would not. The
    // route answers from the directory either way; bad input is a 400.
    const res = await json(call("GET", "/central/buildings/rollups?from=0&to=1"));
    expect(res.status).toBe(200);
    expect(res.body.rollups).toEqual([]);
    expect((await json(call("GET", "/central/buildings/rollups?from=2&to=1"))).status).toBe(400);
  });
});
