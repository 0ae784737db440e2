import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  baseHour,
  building,
  call,
  codeOf,
  freshName,
  HOUR,
  hourlyChange,
  json,
  reading,
  rows,
} from "./telemetry-helpers";

// Defects found by an audit of BuildingTelemetry and CentralTelemetry: each test failed before its fix.

const centralFigures = async (name: string, hour: number) =>
  (
    await json(
      call("GET", `/central/buildings/rollups?from=${hour}&to=${hour + HOUR}&sensor_type=temperature`),
    )
  ).body.rollups.filter((r: { building: string }) => r.building === name);

describe("BuildingTelemetry: a late reading for an hour retention already dropped", () => {
  it("is refused by its index, so the central actor's figures for that hour are never replaced by a partial hour", async () => {
    const name = freshName("late");
    const b = building(name);
    const hour = baseHour();
    await b.ingestBatch([
      reading("t-1", hour + 1000, 20),
      reading("t-1", hour + 2000, 22),
      reading("t-1", hour + 3000, 24),
    ]);
    expect((await json(call("POST", `/admin/buildings/${name}/sync`))).status).toBe(200);
    const full = { readingCount: 3, min: 20, max: 24, avg: 22 };
    expect(await centralFigures(name, hour)).toMatchObject([full]);

    // The building keeps hourly aggregates one hour: the lifecycle drops this one (the central actor keeps its own).
    await b.configure({ retention: { hourly: "1h" } });
    await b.lifecycle();
    expect(await rows(b, "SELECT * FROM hourly_aggregates WHERE hour = ?", [hour])).toEqual([]);

    // A reading of that hour arrives late: its hour cannot be aggregated again without losing the
    // three readings before it (the central actor replaces an hour with the building's figures).
    const late = await codeOf(
      b.ingestBatch([reading("t-1", Date.now(), 21), reading("t-1", hour + 4000, 30)]),
    );
    expect(late.code).toBe("VALIDATION_FAILED");
    expect(late.details).toMatchObject({ index: 1, path: "timestamp" });
    expect(late.message).toMatch(/hourly retention/);
    expect((await codeOf(b.ingest(reading("t-1", hour + 4000, 30)))).code).toBe("VALIDATION_FAILED");
    expect(await rows(b, "SELECT count(*) AS n FROM readings WHERE value IN (21, 30)")).toEqual([{ n: 0 }]);

    await call("POST", `/admin/buildings/${name}/sync`);
    expect(await centralFigures(name, hour)).toMatchObject([full]);

    // A reading of an hour still kept is taken.
    expect((await b.ingest(reading("t-1", Date.now(), 30))).ingested).toBe(1);
  });
});

describe("BuildingTelemetry: the hourly retention lengthened after an hour was dropped", () => {
  it("still refuses readings of the dropped hour (the central actor kept 3 readings of it, not 1)", async () => {
    const name = freshName("regrown");
    const b = building(name);
    const hour = baseHour();
    await b.ingestBatch([
      reading("t-1", hour + 1000, 20),
      reading("t-1", hour + 2000, 22),
      reading("t-1", hour + 3000, 24),
    ]);
    await call("POST", `/admin/buildings/${name}/sync`);
    const full = { readingCount: 3, min: 20, max: 24, avg: 22 };
    expect(await centralFigures(name, hour)).toMatchObject([full]);
    await b.configure({ retention: { hourly: "1h" } });
    await b.lifecycle();
    expect(await rows(b, "SELECT * FROM hourly_aggregates WHERE hour = ?", [hour])).toEqual([]);

    // The retention is lengthened again: the hour is within it, but its aggregate is gone here.
    await b.configure({ retention: { hourly: "30d" } });
    const late = await codeOf(b.ingest(reading("t-1", hour + 4000, 30)));
    expect(late.code).toBe("VALIDATION_FAILED");
    expect(late.details).toMatchObject({ index: 0, path: "timestamp" });
    // Also after the actor restarts (the floor is stored, not only held in memory).
    await evictDurableObject(b);
    expect((await codeOf(building(name).ingest(reading("t-1", hour + 4000, 30)))).code).toBe(
      "VALIDATION_FAILED",
    );
    await call("POST", `/admin/buildings/${name}/sync`);
    expect(await centralFigures(name, hour)).toMatchObject([full]);

    // Hours from the cutoff on are taken.
    expect((await building(name).ingest(reading("t-1", Date.now() - 1000, 30))).ingested).toBe(1);
  });
});

describe("BuildingTelemetry: a rule that stops covering a sensor", () => {
  const openAlerts = async (b: ReturnType<typeof building>) =>
    (await b.activeAlerts()).alerts.map((a) => ({ sensorId: a.sensorId, status: a.status }));

  it("resolves the open alerts of the sensors it no longer watches (sensor or type changed), and keeps the others", async () => {
    const b = building(freshName("narrow"));
    const at = Date.now() - 60_000;
    const rule = await b.createRule({
      sensorType: "temperature",
      condition: "gt",
      thresholdValue: 30,
      cooldownSeconds: 0,
    });
    const raised = await b.ingestBatch([reading("t-1", at, 35), reading("t-2", at, 36)]);
    expect(raised.alerts).toHaveLength(2);

    // Narrowed to t-2: t-1's alert would never see another reading checked against the rule.
    await b.updateRule({ id: rule.id, sensorId: "t-2" });
    expect(await openAlerts(b)).toEqual([{ sensorId: "t-2", status: "ACTIVE" }]);
    const [resolved] = await rows<{ sensor_id: string; status: string; resolved_reason: string }>(
      b,
      "SELECT sensor_id, status, resolved_reason FROM active_alerts WHERE sensor_id = 't-1'",
    );
    expect(resolved).toEqual({ sensor_id: "t-1", status: "RESOLVED", resolved_reason: "rule changed" });

    // A threshold change keeps the open alert: the next readings are checked against the new rule.
    await b.updateRule({ id: rule.id, thresholdValue: 40 });
    expect(await openAlerts(b)).toEqual([{ sensorId: "t-2", status: "ACTIVE" }]);

    // Moved to another sensor type: none of its open alerts can resolve any more.
    await b.updateRule({ id: rule.id, sensorType: "humidity", sensorId: null });
    expect(await openAlerts(b)).toEqual([]);

    // A sensor of the rule's new type raises a new alert as before.
    const again = await b.ingest({ ...reading("h-1", Date.now(), 99), sensorType: "humidity", unit: "%" });
    expect(again.alerts).toMatchObject([{ ruleId: rule.id, sensorId: "h-1" }]);
  });
});

describe("CentralTelemetry: a building destroyed and written again", () => {
  it("replaces the old figures with the new building's (its LSNs start over; nothing is taken for a redelivery)", async () => {
    const name = freshName("reborn");
    const hour = baseHour();
    // Five syncs: the central actor has applied the building's LSNs up to 5.
    for (let i = 0; i < 5; i++) {
      await building(name).ingest(reading("t-1", hour + 1000 + i, 20 + i));
      await call("POST", `/admin/buildings/${name}/sync`);
    }
    expect(await centralFigures(name, hour)).toMatchObject([{ readingCount: 5, min: 20, max: 24 }]);

    await runInDurableObject(building(name), (actor: { destroy(): Promise<void> }) => actor.destroy());
    // The destroyed instance is aborted just after: the next call reaches a fresh, empty one.
    let fresh = false;
    for (let i = 0; i < 20 && !fresh; i++) {
      await new Promise((r) => setTimeout(r, 50));
      fresh = await building(name)
        .ingest(reading("t-1", hour + 5000, 50))
        .then(() => true)
        .catch(() => false);
    }
    expect(fresh).toBe(true);
    expect((await json(call("POST", `/admin/buildings/${name}/sync`))).body.forward).toMatchObject({
      ackedLsn: 1,
    });
    expect(await centralFigures(name, hour)).toMatchObject([{ readingCount: 1, min: 50, max: 50, avg: 50 }]);

    // A batch of the old building (an earlier epoch) arriving now is stale: nothing changes.
    const central = env.CENTRAL_TELEMETRY.getByName("central");
    const applied = await runInDurableObject(
      central,
      (actor: { query(sql: string, p: unknown[]): unknown[] }) =>
        actor.query("SELECT lsn, epoch FROM _dosql_applied WHERE source = ?", [name]),
    );
    const [{ epoch }] = applied as { epoch: number }[];
    const stale = await central.applyRollups({
      source: name,
      forward: "central",
      epoch: epoch - 1,
      after: 0,
      from: 1,
      to: 9,
      changes: [
        hourlyChange(9, 9, hour, {
          min_value: 1,
          max_value: 1,
          sum_value: 1,
          reading_count: 1,
          avg_value: 1,
        }),
      ],
    });
    expect(stale).toMatchObject({ applied: false, changes: 0 });
    expect(await centralFigures(name, hour)).toMatchObject([{ readingCount: 1, min: 50 }]);
  });
});

describe("BuildingTelemetry: values so large their sums overflow", () => {
  it("are refused by index (two of 1.7e308 made the minute's sum Infinity, and the central forward stopped for good)", async () => {
    const name = freshName("huge");
    const b = building(name);
    const hour = baseHour();
    const refused = await codeOf(
      b.ingestBatch([
        reading("t-1", hour + 1000, 1e300),
        reading("t-1", hour + 2000, 1.7e308),
        reading("t-1", hour + 3000, 5),
      ]),
    );
    expect(refused).toMatchObject({ code: "VALIDATION_FAILED", details: { index: 1, path: "value" } });
    expect((await codeOf(b.ingest(reading("t-1", hour + 2000, -1.7e308)))).details).toMatchObject({
      path: "value",
    });
    expect((await json(call("POST", `/buildings/${name}/ingest`, reading("t-1", hour, 1e301)))).status).toBe(
      400,
    );

    // At the bound, every figure stays finite and reaches the central actor.
    await b.ingestBatch([
      reading("t-1", hour + 1000, 1e300),
      reading("t-1", hour + 2000, 1e300),
      reading("t-1", hour + 3000, -1e300),
    ]);
    const sync = await json(call("POST", `/admin/buildings/${name}/sync`));
    expect(sync.body.forward).toMatchObject({ pending: 0, failures: 0 });
    const [fig] = await centralFigures(name, hour);
    expect(fig).toMatchObject({ readingCount: 3, min: -1e300, max: 1e300 });
    expect(fig.avg).toBeCloseTo(1e300 / 3, -290);
  });
});

describe("BuildingTelemetry: a batch whose readings are not in time order", () => {
  it("raises and resolves alerts as the same readings in time order do (the breach listed after a newer in-range reading stayed ACTIVE)", async () => {
    const outcome = async (order: "time" | "reversed") => {
      const b = building(freshName(`order-${order}`));
      const at = Date.now() - 10 * 60_000;
      await b.createRule({
        sensorType: "temperature",
        condition: "gt",
        thresholdValue: 30,
        cooldownSeconds: 0,
      });
      const batch = [
        reading("t-1", at + 1000, 40),
        reading("t-1", at + 2000, 20),
        reading("t-2", at + 1500, 35),
      ];
      const res = await b.ingestBatch(order === "time" ? batch : batch.reverse());
      const open = (await b.activeAlerts()).alerts.map((a) => a.sensorId);
      const stored = await rows(
        b,
        "SELECT sensor_id, status, triggered_at, resolved_at FROM active_alerts ORDER BY sensor_id",
      );
      return {
        raised: res.alerts.length,
        resolved: res.resolved.length,
        open,
        stored: stored.map((r) => ({
          ...r,
          triggered_at: Number(r.triggered_at) - at,
          resolved_at: r.resolved_at === null ? null : Number(r.resolved_at) - at,
        })),
      };
    };
    const inOrder = await outcome("time");
    expect(inOrder).toEqual({
      raised: 2,
      resolved: 1,
      open: ["t-2"],
      stored: [
        { sensor_id: "t-1", status: "RESOLVED", triggered_at: 1000, resolved_at: 2000 },
        { sensor_id: "t-2", status: "ACTIVE", triggered_at: 1500, resolved_at: null },
      ],
    });
    expect(await outcome("reversed")).toEqual(inOrder);
  });
});

describe("BuildingTelemetry: a forward parked by an outage of the central actor", () => {
  it("is taken back into service by the admin sync, which delivers what it held", async () => {
    const name = freshName("parked");
    const b = building(name);
    const hour = baseHour();
    await b.ingestBatch([reading("t-1", hour + 1000, 20), reading("t-1", hour + 2000, 24)]);
    // The state 8 failed deliveries in a row leave (src/forward/delivery.ts), written as they write it.
    await runInDurableObject(b, (_, state) => {
      state.storage.sql.exec(
        "UPDATE _dosql_forwards SET state = 'parked', failures = 8, last_error = 'central was down', parked_at = ? WHERE name = 'central'",
        Date.now(),
      );
    });
    expect((await b.flushForward("central"))[0]).toMatchObject({ state: "parked" });
    const synced = await json(call("POST", `/admin/buildings/${name}/sync`));
    expect(synced.status).toBe(200);
    expect(synced.body.forward).toMatchObject({ state: "active", failures: 0, pending: 0 });
    expect(await centralFigures(name, hour)).toMatchObject([{ readingCount: 2, min: 20, max: 24, avg: 22 }]);
  });
});
