import { describe, expect, it } from "vitest";
import { baseHour, building, call, codeOf, freshName, HOUR, json, reading, rows } from "./telemetry-helpers";

// Defects found by an audit of BuildingTelemetry and CentralTelemetry: each test failed before its fix.

describe("BuildingTelemetry: a late reading for an hour retention already dropped", () => {
  const centralFigures = async (name: string, hour: number) =>
    (
      await json(
        call("GET", `/central/buildings/rollups?from=${hour}&to=${hour + HOUR}&sensor_type=temperature`),
      )
    ).body.rollups.filter((r: { building: string }) => r.building === name);

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

    // A reading of an hour still kept is taken (the floor follows the configured retention).
    await b.configure({ retention: { hourly: "30d" } });
    expect((await b.ingest(reading("t-1", hour + 4000, 30))).ingested).toBe(1);
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

    // A new alert on t-1 for the rule's new type works as before.
    const again = await b.ingest({ ...reading("h-1", Date.now(), 99), sensorType: "humidity", unit: "%" });
    expect(again.alerts).toMatchObject([{ ruleId: rule.id, sensorId: "h-1" }]);
  });
});
