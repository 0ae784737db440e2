import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, idOf, objectIds, secured, userToken } from "./auth-helpers";
import {
  alertsSocket,
  baseHour,
  building,
  call,
  codeOf,
  freshName,
  HOUR,
  json,
  MINUTE,
  reading,
  rows,
} from "./telemetry-helpers";

describe("BuildingTelemetry: ingest and aggregates", () => {
  it("a batch lands with exact minute aggregates, and rollups give exact hourly figures (once, late readings too)", async () => {
    const name = freshName("batch");
    const b = building(name);
    const t = baseHour();
    const batch = [
      reading("t-1", t, 20, { quality: 90 }),
      reading("t-1", t + 10_000, 22.5, { quality: 100 }),
      reading("t-1", t + 59_999, 21, { quality: 80 }),
      reading("t-1", t + MINUTE, 30),
      reading("t-2", t + 2 * MINUTE, 10, { sensorType: "humidity", unit: "%" }),
      reading("t-1", t + HOUR + 5_000, 40),
    ];
    const res = await json(call("POST", `/buildings/${name}/ingest-batch`, batch));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, ingested: 6, alerts: [], resolved: [] });
    expect(await rows(b, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 6 }]);

    const minute = await b.queryAggregates({ sensorId: "t-1", hours: 24 });
    expect(minute.data).toEqual([
      {
        sensorId: "t-1",
        sensorType: "temperature",
        timestamp: iso(t),
        avg: 63.5 / 3,
        min: 20,
        max: 22.5,
        count: 3,
      },
      {
        sensorId: "t-1",
        sensorType: "temperature",
        timestamp: iso(t + MINUTE),
        avg: 30,
        min: 30,
        max: 30,
        count: 1,
      },
      {
        sensorId: "t-1",
        sensorType: "temperature",
        timestamp: iso(t + HOUR),
        avg: 40,
        min: 40,
        max: 40,
        count: 1,
      },
    ]);
    expect(
      await rows(b, "SELECT avg_quality AS q FROM minute_aggregates WHERE sensor_id = 't-1' AND minute = ?", [
        t,
      ]),
    ).toEqual([{ q: 90 }]);
    const humidity = await b.queryAggregates({ sensorType: "humidity" });
    expect(humidity.data.map((p) => [p.sensorId, p.count, p.avg])).toEqual([["t-2", 1, 10]]);

    // Hourly figures come from the rollup (schedule, lifecycle or sync).
    expect((await b.queryAggregates({ granularity: "hour" })).data).toEqual([]);
    expect(await b.rollup()).toEqual({ hours: 2, rows: 3 });
    const hourly = () => b.queryAggregates({ sensorId: "t-1", granularity: "hour" });
    expect((await hourly()).data).toEqual([
      {
        sensorId: "t-1",
        sensorType: "temperature",
        timestamp: iso(t),
        avg: 93.5 / 4,
        min: 20,
        max: 30,
        count: 4,
      },
      {
        sensorId: "t-1",
        sensorType: "temperature",
        timestamp: iso(t + HOUR),
        avg: 40,
        min: 40,
        max: 40,
        count: 1,
      },
    ]);
    // Again: nothing pending, nothing added twice.
    expect(await b.rollup()).toEqual({ hours: 0, rows: 0 });
    // A late reading of an hour already rolled up: only it is added.
    await b.ingest(reading("t-1", t + 30 * MINUTE, 0.5));
    await b.ingest(reading("t-1", t + 10_001, 1.5)); // a minute that was already rolled up
    expect(await b.rollup()).toEqual({ hours: 1, rows: 1 });
    expect((await hourly()).data[0]).toEqual({
      sensorId: "t-1",
      sensorType: "temperature",
      timestamp: iso(t),
      avg: 95.5 / 6,
      min: 0.5,
      max: 30,
      count: 6,
    });
    // Every hourly figure equals a recomputation from the raw readings.
    const raw = await rows<{ n: number; s: number; lo: number; hi: number }>(
      b,
      "SELECT count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi FROM readings WHERE sensor_id = 't-1' AND ts >= ? AND ts < ?",
      [t, t + HOUR],
    );
    expect(raw).toEqual([{ n: 6, s: 95.5, lo: 0.5, hi: 30 }]);
  });

  it("invalid readings are refused with their index, and nothing of the batch is written", async () => {
    const name = freshName("invalid");
    const b = building(name);
    const t = baseHour();
    await b.ingest(reading("ok", t, 1));
    const bad: [unknown, string][] = [
      [{ ...reading("x", t, 1), sensorType: "radiation" }, "sensorType"],
      [{ ...reading("x", t, 1), value: "12" }, "value"],
      [{ ...reading("x", t, 1), quality: 101 }, "quality"],
      [{ ...reading("x", t, 1), quality: 50.5 }, "quality"],
      [{ ...reading("x", t, 1), unit: undefined }, "unit"],
      [{ ...reading("x", t, 1), sensorId: "" }, "sensorId"],
      [{ ...reading("x", t, 1), timestamp: "yesterday" }, "timestamp"],
      [{ ...reading("x", t, 1), timestamp: Date.now() + 2 * HOUR }, "timestamp"],
      ["not an object", ""],
    ];
    for (const [item, field] of bad) {
      const batch = [reading("a", t, 1), reading("b", t, 2), item, reading("c", t, 3)];
      const res = await json(call("POST", `/buildings/${name}/ingest-batch`, batch));
      expect(res.status, JSON.stringify(item)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.message).toContain(field ? `readings[2].${field}` : "readings[2]");
      const viaRpc = await codeOf(b.ingestBatch(batch as never));
      expect(viaRpc.code).toBe("VALIDATION_FAILED");
      expect(viaRpc.details.index).toBe(2);
    }
    // Values JSON cannot carry, over RPC.
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = await codeOf(b.ingestBatch([reading("a", t, 1), reading("b", t, value)]));
      expect(r).toMatchObject({ code: "VALIDATION_FAILED", details: { index: 1, path: "value" } });
    }
    expect((await codeOf(b.ingestBatch([]))).code).toBe("VALIDATION_FAILED");
    const tooMany = Array.from({ length: 5001 }, (_, i) => reading("a", t + i, 1));
    expect((await codeOf(b.ingestBatch(tooMany))).code).toBe("VALIDATION_FAILED");
    expect(await rows(b, "SELECT sensor_id AS s FROM readings")).toEqual([{ s: "ok" }]);
    expect(await rows(b, "SELECT sum(count) AS n FROM minute_aggregates")).toEqual([{ n: 1 }]);
    // A single ingest of a bad reading.
    const single = await json(
      call("POST", `/buildings/${name}/ingest`, { ...reading("x", t, 1), quality: -1 }),
    );
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe("VALIDATION_FAILED");
    expect((await json(call("POST", `/buildings/${name}/ingest`, "{not json"))).body.error.code).toBe(
      "INVALID_JSON",
    );
  });

  it("each reading rule holds at its edges: bounds accepted, one past refused, the first bad field named", async () => {
    const name = freshName("edges");
    const b = building(name);
    const t = baseHour();
    const base = reading("e", t, 1);
    const iso = new Date(t + 1000).toISOString();
    const accepted = [
      { ...base, sensorId: "x" },
      { ...base, sensorId: "s".repeat(128) },
      { ...base, unit: "u" },
      { ...base, unit: "u".repeat(32) },
      { ...base, quality: 0 },
      { ...base, quality: 100 },
      { ...base, value: -0 },
      { ...base, value: -1e300 },
      { ...base, sensorType: "water", extra: "ignored" },
      { ...base, sensorId: "iso-z", timestamp: iso },
      { ...base, sensorId: "iso-offset", timestamp: iso.replace("Z", "+00:00") },
    ];
    expect(await b.ingestBatch(accepted as never)).toMatchObject({ ingested: accepted.length });
    expect(
      await rows(
        b,
        "SELECT sensor_id AS s, quality AS q, ts FROM readings WHERE sensor_id LIKE 'iso%' ORDER BY 1",
      ),
    ).toEqual([
      { s: "iso-offset", q: 100, ts: t + 1000 },
      { s: "iso-z", q: 100, ts: t + 1000 },
    ]);
    const refused: [unknown, string][] = [
      [{ ...base, sensorId: "s".repeat(129) }, "sensorId"],
      [{ ...base, sensorId: 7 }, "sensorId"],
      [{ ...base, sensorId: undefined }, "sensorId"],
      [{ ...base, sensorType: "TEMPERATURE" }, "sensorType"],
      [{ ...base, value: undefined }, "value"],
      [{ ...base, value: null }, "value"],
      [{ ...base, value: true }, "value"],
      [{ ...base, unit: "" }, "unit"],
      [{ ...base, unit: "u".repeat(33) }, "unit"],
      [{ ...base, quality: null }, "quality"],
      [{ ...base, quality: -1 }, "quality"],
      [{ ...base, quality: 101 }, "quality"],
      [{ ...base, quality: 99.5 }, "quality"],
      [{ ...base, quality: "50" }, "quality"],
      [{ ...base, timestamp: undefined }, "timestamp"],
      [{ ...base, timestamp: -1 }, "timestamp"],
      [{ ...base, timestamp: t + 0.5 }, "timestamp"],
      [{ ...base, timestamp: 8.64e15 + 1 }, "timestamp"],
      [{ ...base, timestamp: iso.replace("Z", "") }, "timestamp"],
      [{ ...base, timestamp: iso.slice(0, 10) }, "timestamp"],
      [{ ...base, sensorId: "", value: "x", quality: 200 }, "sensorId"],
      [{ ...base, value: "x", quality: 200 }, "value"],
      [[base], ""],
      [null, ""],
    ];
    for (const [item, path] of refused) {
      const r = await codeOf(b.ingestBatch([base, item] as never));
      expect(r, JSON.stringify(item)).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { index: 1, path },
      });
      const single = await json(call("POST", `/buildings/${name}/ingest`, item ?? "null"));
      expect(single.status, JSON.stringify(item)).toBe(400);
      expect(single.body.error.code).toBe("VALIDATION_FAILED");
      expect(single.body.error.message).toMatch(new RegExp(`^${path || "reading"}: `));
      expect((await codeOf(b.ingest(item as never))).details?.path, JSON.stringify(item)).toBe(path);
    }
    expect(await rows(b, "SELECT count(*) AS n FROM readings")).toEqual([{ n: accepted.length }]);
  });

  it("injection strings in every query parameter are bound, never spliced: inert", async () => {
    const name = freshName("inject");
    const b = building(name);
    const t = baseHour();
    const evil = [
      "x' OR '1'='1",
      "'); DROP TABLE readings; --",
      '" OR 1=1 --',
      "1; DELETE FROM minute_aggregates",
    ];
    await b.ingestBatch([reading("plain", t, 5), ...evil.map((id, i) => reading(id, t + i, i))]);
    for (const id of evil) {
      const enc = encodeURIComponent(id);
      const q = await json(call("GET", `/buildings/${name}/query?sensor_id=${enc}&hours=24`));
      expect(q.status).toBe(200);
      expect(q.body.data.map((p: { sensorId: string }) => p.sensorId)).toEqual([id]);
      const h = await json(
        call("GET", `/buildings/${name}/historical?start=0&end=${Date.now()}&sensor_id=${enc}`),
      );
      expect(h.status).toBe(200);
      expect(h.body.data.map((p: { sensorId: string }) => p.sensorId)).toEqual([id]);
      for (const path of [
        `/buildings/${name}/query?sensor_type=${enc}`,
        `/buildings/${name}/query?hours=${enc}`,
        `/buildings/${name}/query?granularity=${enc}`,
        `/buildings/${name}/realtime?sensor_type=${enc}`,
        `/buildings/${name}/realtime?minutes=${enc}`,
        `/buildings/${name}/historical?start=${enc}&end=1`,
        `/buildings/${name}/historical?start=0&end=${enc}`,
        `/central/buildings/rollups?sensor_type=${enc}`,
        `/central/buildings/rollups?from=${enc}`,
      ]) {
        const res = await json(call("GET", path));
        expect(res.status, path).toBe(400);
        expect(res.body.error.code, path).toBe("VALIDATION_FAILED");
      }
      expect((await json(call("GET", `/buildings/${enc}/query`))).status).toBe(400);
    }
    expect(await rows(b, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 5 }]);
    expect(await rows(b, "SELECT count(*) AS n FROM minute_aggregates")).toEqual([{ n: 5 }]);
    const rules = await json(
      call("POST", `/buildings/${name}/alerts/rules`, {
        sensorType: "temperature",
        sensorId: evil[1],
        condition: "gt",
        thresholdValue: 100,
      }),
    );
    expect(rules.status).toBe(201);
    expect(rules.body.sensorId).toBe(evil[1]);
  });

  it("lookups of unknown buildings answer 404 and create no storage", async () => {
    const names = Array.from({ length: 5 }, () => freshName("ghost"));
    for (const n of names)
      for (const [method, path, body] of [
        ["GET", `/buildings/${n}/query`],
        ["GET", `/buildings/${n}/realtime`],
        ["GET", `/buildings/${n}/historical?start=0&end=1`],
        ["GET", `/buildings/${n}/alerts/rules`],
        ["GET", `/buildings/${n}/alerts/active`],
        ["GET", `/buildings/${n}/alerts/ws`],
        ["POST", `/buildings/${n}/alerts/acknowledge`, { alertId: 1, userId: "op" }],
        ["PATCH", `/buildings/${n}/alerts/rules/1`, { enabled: false }],
        ["POST", `/admin/buildings/${n}/sync`],
      ] as [string, string, unknown?][]) {
        const res = await json(call(method, path, body));
        expect(res.status, path).toBe(404);
        expect(res.body.error.code, path).toBe("BUILDING_NOT_FOUND");
      }
    const ids = await objectIds(env.BUILDING_TELEMETRY);
    for (const n of names) expect(ids).not.toContain(idOf(env.BUILDING_TELEMETRY, n));
  });
});

describe("BuildingTelemetry: alert rules", () => {
  it("every condition raises exactly when it should, with the threshold crossed", async () => {
    const b = building(freshName("conditions"));
    const t = baseHour();
    const cases: [string, Record<string, number>, number[], number[], number][] = [
      // condition, thresholds, values that do not breach, the value that does, threshold reported
      ["gt", { thresholdValue: 10 }, [10, 9], [10.5], 10],
      ["gte", { thresholdValue: 10 }, [9.75], [10], 10],
      ["lt", { thresholdValue: 10 }, [10, 11], [9.5], 10],
      ["lte", { thresholdValue: 10 }, [10.25], [10], 10],
      ["eq", { thresholdValue: 10 }, [10.25, 9.75], [10], 10],
      ["neq", { thresholdValue: 10 }, [10], [11], 10],
      ["range_outside", { thresholdMin: 5, thresholdMax: 15 }, [5, 15, 10], [4.75], 5],
    ];
    for (const [condition, thresholds, quiet, loud, crossed] of cases) {
      const rule = await b.createRule({
        sensorType: "power",
        sensorId: `s-${condition}`,
        condition: condition as never,
        ...thresholds,
      });
      expect(rule).toMatchObject({ condition, enabled: true, cooldownSeconds: 300, severity: "warning" });
      let at = t;
      for (const value of quiet) {
        at += 1000;
        const r = await b.ingest(reading(`s-${condition}`, at, value, { sensorType: "power", unit: "kW" }));
        expect(r.alerts, `${condition} ${value}`).toEqual([]);
      }
      for (const value of loud) {
        at += 1000;
        const r = await b.ingest(reading(`s-${condition}`, at, value, { sensorType: "power", unit: "kW" }));
        expect(r.alerts, `${condition} ${value}`).toEqual([
          { id: expect.any(Number), ruleId: rule.id, sensorId: `s-${condition}`, severity: "warning" },
        ]);
        const [alert] = (await b.activeAlerts()).alerts.filter((a) => a.id === r.alerts[0].id);
        expect(alert).toMatchObject({ triggerValue: value, thresholdValue: crossed, status: "ACTIVE" });
      }
    }
    // range_outside above the range reports the upper bound.
    const range = await b.createRule({
      sensorType: "water",
      condition: "range_outside",
      thresholdMin: 1,
      thresholdMax: 2,
      severity: "critical",
    });
    const up = await b.ingest(reading("w-1", t, 2.25, { sensorType: "water", unit: "l" }));
    expect(up.alerts).toEqual([
      { id: expect.any(Number), ruleId: range.id, sensorId: "w-1", severity: "critical" },
    ]);
    expect((await b.activeAlerts()).alerts[0]).toMatchObject({ thresholdValue: 2, severity: "critical" });
    // A rule for a type applies to every sensor of that type only; a disabled rule to none.
    const typeRule = await b.createRule({ sensorType: "co2", condition: "gt", thresholdValue: 1000 });
    const many = await b.ingestBatch([
      reading("c-1", t, 1200, { sensorType: "co2", unit: "ppm" }),
      reading("c-2", t, 1300, { sensorType: "co2", unit: "ppm" }),
      reading("c-3", t, 1300, { sensorType: "humidity", unit: "%" }),
    ]);
    expect(many.alerts.map((a) => [a.ruleId, a.sensorId])).toEqual([
      [typeRule.id, "c-1"],
      [typeRule.id, "c-2"],
    ]);
    const disabled = await b.createRule({
      sensorType: "occupancy",
      condition: "gt",
      thresholdValue: 1,
      enabled: false,
    });
    expect(disabled.enabled).toBe(false);
    expect(
      (await b.ingest(reading("o-1", t, 50, { sensorType: "occupancy", unit: "people" }))).alerts,
    ).toEqual([]);
    // Bad rules are refused.
    for (const bad of [
      { sensorType: "co2", condition: "gt" },
      { sensorType: "co2", condition: "range_outside", thresholdMin: 5, thresholdMax: 1 },
      { sensorType: "co2", condition: "between", thresholdValue: 1 },
      { sensorType: "co2", condition: "gt", thresholdValue: 1, cooldownSeconds: -1 },
      { sensorType: "co2", condition: "gt", thresholdValue: 1, severity: "fatal" },
    ])
      expect((await codeOf(b.createRule(bad as never))).code, JSON.stringify(bad)).toBe("VALIDATION_FAILED");
  });

  it("cooldown per rule and sensor: one open alert, no new one within the cooldown after it resolves; survives eviction", async () => {
    const b = building(freshName("cooldown"));
    const t0 = baseHour();
    const rule = await b.createRule({
      sensorType: "temperature",
      condition: "gt",
      thresholdValue: 50,
      cooldownSeconds: 60,
    });
    const at = (s: number) => t0 + s * 1000;
    const raised = async (sensor: string, s: number, value: number) =>
      (await b.ingest(reading(sensor, at(s), value))).alerts.length;
    expect(await raised("cd", 0, 60)).toBe(1); // A1
    expect(await raised("cd", 10, 70)).toBe(0); // A1 is open
    const back = await b.ingest(reading("cd", at(20), 40));
    expect(back.resolved).toHaveLength(1); // A1 resolved
    expect(await raised("cd", 30, 60)).toBe(0); // within 60 s of A1: suppressed
    expect(await raised("cd2", 30, 60)).toBe(1); // another sensor: its own cooldown
    await evictDurableObject(b);
    expect(await raised("cd", 59, 60)).toBe(0); // still within the cooldown (state read back after eviction)
    expect(await raised("cd", 60, 60)).toBe(1); // 60 s after A1: a new alert
    const alerts = await rows<{ sensor: string; status: string; at: number }>(
      b,
      "SELECT sensor_id AS sensor, status, triggered_at AS at FROM active_alerts WHERE rule_id = ? ORDER BY id",
      [rule.id],
    );
    expect(alerts).toEqual([
      { sensor: "cd", status: "RESOLVED", at: at(0) },
      { sensor: "cd2", status: "ACTIVE", at: at(30) },
      { sensor: "cd", status: "ACTIVE", at: at(60) },
    ]);
    // A batch: the same rules, evaluated reading by reading in order.
    const batch = await b.ingestBatch([
      reading("cd3", at(0), 60),
      reading("cd3", at(1), 70),
      reading("cd3", at(2), 1),
      reading("cd3", at(3), 99),
    ]);
    expect(batch.alerts).toHaveLength(1);
    expect(batch.resolved).toHaveLength(1);
  });

  it("a back-filled reading older than an open alert does not resolve it; a newer one in range does", async () => {
    const b = building(freshName("backfill"));
    const t0 = baseHour();
    await b.createRule({ sensorType: "temperature", condition: "gt", thresholdValue: 50 });
    const raised = await b.ingest(reading("bf", t0 + 10 * MINUTE, 80));
    expect(raised.alerts).toHaveLength(1);
    // A gateway uploads its backlog: in range, but taken before the alert was raised.
    const backlog = await b.ingestBatch([reading("bf", t0, 20), reading("bf", t0 + 5 * MINUTE, 21)]);
    expect(backlog.resolved).toEqual([]);
    expect((await b.activeAlerts()).alerts.map((a) => a.status)).toEqual(["ACTIVE"]);
    await evictDurableObject(b); // the raise time is read back after a wake too
    expect((await b.ingest(reading("bf", t0 + 5 * MINUTE + 1, 22))).resolved).toEqual([]);
    const back = await b.ingest(reading("bf", t0 + 11 * MINUTE, 30));
    expect(back.resolved).toEqual([raised.alerts[0].id]);
  });

  it("rules are updated and disabled (the in-memory rules follow at once; open alerts of a disabled rule resolve)", async () => {
    const name = freshName("update");
    const b = building(name);
    const t = baseHour();
    const rule = await b.createRule({
      sensorType: "humidity",
      condition: "gt",
      thresholdValue: 80,
      cooldownSeconds: 0,
    });
    expect((await b.ingest(reading("h", t, 70, { sensorType: "humidity", unit: "%" }))).alerts).toEqual([]);
    const patched = await json(
      call("PATCH", `/buildings/${name}/alerts/rules/${rule.id}`, { thresholdValue: 60 }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.thresholdValue).toBe(60);
    expect(
      (await b.ingest(reading("h", t + 1, 70, { sensorType: "humidity", unit: "%" }))).alerts,
    ).toHaveLength(1);
    const off = await b.updateRule({ id: rule.id, enabled: false });
    expect(off.enabled).toBe(false);
    expect((await b.activeAlerts()).alerts).toEqual([]);
    expect(await rows(b, "SELECT resolved_reason AS r FROM active_alerts")).toEqual([{ r: "rule disabled" }]);
    expect((await b.ingest(reading("h", t + 2, 99, { sensorType: "humidity", unit: "%" }))).alerts).toEqual(
      [],
    );
    expect((await codeOf(b.updateRule({ id: 999, enabled: false }))).code).toBe("RULE_NOT_FOUND");
    expect((await codeOf(b.updateRule({ id: rule.id, condition: "range_outside" }))).code).toBe(
      "VALIDATION_FAILED",
    );
    const listed = await json(call("GET", `/buildings/${name}/alerts/rules`));
    expect(listed.body.rules.map((r: { id: number; enabled: boolean }) => [r.id, r.enabled])).toEqual([
      [rule.id, false],
    ]);
  });
});

describe("BuildingTelemetry: the alerts socket, acknowledge, resolve", () => {
  it("init with the open alerts, then alert, alert-acknowledged and alert-resolved frames", async () => {
    const name = freshName("socket");
    const b = building(name);
    const t = baseHour();
    const rule = await b.createRule({
      sensorType: "co2",
      condition: "gt",
      thresholdValue: 1000,
      severity: "critical",
    });
    const first = await b.ingest(reading("room-1", t, 1500, { sensorType: "co2", unit: "ppm" }));
    const ws = await alertsSocket(name);
    const init = await ws.next("init");
    expect(init.frame.data.alerts.map((a: { id: number }) => a.id)).toEqual([first.alerts[0].id]);

    const sent = performance.now();
    const second = await json(
      call(
        "POST",
        `/buildings/${name}/ingest`,
        reading("room-2", t + 1000, 1800, { sensorType: "co2", unit: "ppm" }),
      ),
    );
    const alert = await ws.next("alert");
    expect(alert.at - sent).toBeLessThan(1000);
    expect(alert.frame.data).toEqual({
      id: second.body.alerts[0].id,
      ruleId: rule.id,
      sensorId: "room-2",
      sensorType: "co2",
      triggerValue: 1800,
      thresholdValue: 1000,
      severity: "critical",
      status: "ACTIVE",
      triggeredAt: new Date(t + 1000).toISOString(),
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedReason: null,
    });

    const ack = await json(
      call("POST", `/buildings/${name}/alerts/acknowledge`, {
        alertId: second.body.alerts[0].id,
        userId: "op-7",
      }),
    );
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: "ACKNOWLEDGED", acknowledgedBy: "op-7" });
    const acked = await ws.next("alert-acknowledged");
    expect(acked.frame.data).toMatchObject({
      id: second.body.alerts[0].id,
      status: "ACKNOWLEDGED",
      acknowledgedBy: "op-7",
    });
    // Acknowledged again, or unknown: typed errors.
    const again = await json(
      call("POST", `/buildings/${name}/alerts/acknowledge`, {
        alertId: second.body.alerts[0].id,
        userId: "op-7",
      }),
    );
    expect([again.status, again.body.error.code]).toEqual([409, "INVALID_STATUS_ACKNOWLEDGED"]);
    const unknown = await json(
      call("POST", `/buildings/${name}/alerts/acknowledge`, { alertId: 99_999, userId: "op" }),
    );
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "ALERT_NOT_FOUND"]);
    expect(
      (await json(call("POST", `/buildings/${name}/alerts/acknowledge`, { alertId: "1", userId: "op" })))
        .status,
    ).toBe(400);
    // An acknowledged alert stays open (still listed) until its readings come back in range.
    const active = await json(call("GET", `/buildings/${name}/alerts/active`));
    expect(active.body.alerts.map((a: { id: number; status: string }) => [a.id, a.status])).toEqual([
      [second.body.alerts[0].id, "ACKNOWLEDGED"],
      [first.alerts[0].id, "ACTIVE"],
    ]);
    await b.ingest(reading("room-2", t + 2000, 900, { sensorType: "co2", unit: "ppm" }));
    const resolved = await ws.next("alert-resolved");
    expect(resolved.frame.data).toMatchObject({
      id: second.body.alerts[0].id,
      status: "RESOLVED",
      resolvedReason: "back in range",
      resolvedAt: new Date(t + 2000).toISOString(),
      acknowledgedBy: "op-7",
    });
    expect((await b.activeAlerts()).alerts.map((a) => a.id)).toEqual([first.alerts[0].id]);
    // A resolved alert cannot be acknowledged.
    expect((await codeOf(b.acknowledge({ alertId: second.body.alerts[0].id, userId: "x" }))).code).toBe(
      "INVALID_STATUS_RESOLVED",
    );
    // Client frames are refused with an error frame; the socket stays open.
    ws.send({ type: "acknowledge", alertId: 1 });
    const error = await ws.next("error");
    expect(error.frame.code).toBe("INVALID_MESSAGE");
    expect(ws.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    // A second subscriber after eviction (hibernation) still gets alerts.
    await evictDurableObject(b);
    const late = await alertsSocket(name);
    expect((await late.next("init")).frame.data.alerts).toHaveLength(1);
    await b.ingest(reading("room-3", t + 3000, 5000, { sensorType: "co2", unit: "ppm" }));
    expect((await late.next("alert")).frame.data.sensorId).toBe("room-3");
    for (const socket of [ws.ws, late.ws])
      try {
        socket.close();
      } catch {}
  });
});

const iso = (ms: number) => new Date(ms).toISOString();

describe("BuildingTelemetry: roles and concurrency", () => {
  it("building writes need the admin token; reads and the central figures are public", async () => {
    const name = freshName("roles");
    const as = secured();
    const t = baseHour();
    const writes: [string, string, unknown][] = [
      ["POST", `/buildings/${name}/ingest`, reading("a", t, 1)],
      ["POST", `/buildings/${name}/ingest-batch`, [reading("a", t, 1)]],
      ["POST", `/buildings/${name}/alerts/rules`, { sensorType: "co2", condition: "gt", thresholdValue: 1 }],
      ["POST", `/buildings/${name}/alerts/acknowledge`, { alertId: 1, userId: "op" }],
      ["PATCH", `/buildings/${name}/alerts/rules/1`, { enabled: false }],
      ["POST", `/admin/buildings/${name}/sync`, undefined],
    ];
    for (const [method, path, body] of writes) {
      expect((await as(method, path, { body })).status, path).toBe(401);
      expect((await as(method, path, { body, token: await userToken("u1") })).status, path).toBe(403);
    }
    // Nothing was written by the refusals: the building does not exist.
    expect(await objectIds(env.BUILDING_TELEMETRY)).not.toContain(idOf(env.BUILDING_TELEMETRY, name));
    const ok = await as("POST", `/buildings/${name}/ingest`, {
      body: reading("a", t, 1),
      token: ADMIN_TOKEN,
    });
    expect(ok.status).toBe(200);
    for (const path of [
      `/buildings/${name}/query`,
      `/buildings/${name}/realtime`,
      `/buildings/${name}/historical?start=0&end=${Date.now()}`,
      `/buildings/${name}/alerts/rules`,
      `/buildings/${name}/alerts/active`,
      "/central/buildings/rollups",
    ])
      expect((await as("GET", path)).status, path).toBe(200);
    expect((await as("POST", `/admin/buildings/${name}/sync`, { token: ADMIN_TOKEN })).status).toBe(200);
  });

  it("concurrent batches: every reading counted once in its minute, at most one open alert per rule and sensor", async () => {
    const b = building(freshName("concurrent"));
    const t = baseHour();
    await b.createRule({ sensorType: "power", condition: "gt", thresholdValue: 50, cooldownSeconds: 0 });
    const sensors = ["p-1", "p-2", "p-3"];
    await Promise.all(
      Array.from({ length: 20 }, (_, call) =>
        b.ingestBatch(
          Array.from({ length: 50 }, (_, i) =>
            reading(sensors[(call + i) % 3], t + call * 1000 + i, ((call * 7 + i) % 100) * 1.0, {
              sensorType: "power",
              unit: "kW",
            }),
          ),
        ),
      ),
    );
    const [totals] = await rows<{ readings: number; minutes: number; sum: number; msum: number }>(
      b,
      `SELECT (SELECT count(*) FROM readings) AS readings, (SELECT sum(count) FROM minute_aggregates) AS minutes,
        (SELECT sum(value) FROM readings) AS sum, (SELECT sum(sum_value) FROM minute_aggregates) AS msum`,
    );
    expect(totals.readings).toBe(1000);
    expect(totals.minutes).toBe(1000);
    expect(totals.msum).toBe(totals.sum);
    const open = await rows<{ n: number }>(
      b,
      "SELECT count(*) AS n FROM active_alerts WHERE status <> 'RESOLVED' GROUP BY rule_id, sensor_id HAVING n > 1",
    );
    expect(open).toEqual([]);
  });
});
