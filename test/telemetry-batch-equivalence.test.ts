import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { BuildingTelemetry } from "../actors/index";
import {
  type BuildingStub,
  baseHour,
  building,
  freshName,
  HOUR,
  MINUTE,
  reading,
  rows,
} from "./telemetry-helpers";

/**
 * 600 readings of three sensors (two types) over 70 minutes that cross an hour, at uneven steps,
 * values multiples of 0.25 (negative too) so every sum is exact whatever the order of additions,
 * qualities 0–100.
 */
function readingsOf(t0: number) {
  const out = [];
  let t = t0;
  for (let i = 0; i < 600; i++) {
    t += 1_000 + ((i * 7919) % 13_000);
    const sensor = `q-${(i * 5) % 3}`;
    const humidity = sensor === "q-2" ? { sensorType: "humidity" as const, unit: "%" } : {};
    out.push({ ...reading(sensor, t, ((i * 37) % 160) * 0.25 - 10), quality: (i * 13) % 101, ...humidity });
  }
  return out;
}

const MINUTES = `SELECT sensor_id AS s, sensor_type AS type, minute, min_value AS lo, max_value AS hi, sum_value AS sum,
  count AS n, avg_quality AS q FROM minute_aggregates ORDER BY s, minute`;
const HOURS = `SELECT sensor_id AS s, sensor_type AS type, hour, min_value AS lo, max_value AS hi, sum_value AS sum,
  reading_count AS n, avg_value AS avg FROM hourly_aggregates ORDER BY s, hour`;

type Row = Record<string, number | string>;

/** The figures worked out here from the readings themselves (not by the actor). */
function expected(readings: ReturnType<typeof readingsOf>, bucket: number) {
  const groups = new Map<string, { s: string; type: string; at: number; v: number[]; q: number[] }>();
  for (const r of readings) {
    const at = r.timestamp - (r.timestamp % bucket);
    const key = `${r.sensorId}/${at}`;
    const g = groups.get(key) ?? { s: r.sensorId, type: r.sensorType, at, v: [], q: [] };
    g.v.push(r.value);
    g.q.push(r.quality);
    groups.set(key, g);
  }
  return [...groups.values()]
    .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.at - b.at))
    .map((g) => ({
      s: g.s,
      type: g.type,
      at: g.at,
      lo: Math.min(...g.v),
      hi: Math.max(...g.v),
      sum: g.v.reduce((x, y) => x + y, 0),
      n: g.v.length,
      q: g.q.reduce((x, y) => x + y, 0) / g.q.length,
    }));
}

const rollup = (b: BuildingStub) => runInDurableObject(b, (actor: BuildingTelemetry) => actor.rollup());

/** avg_quality is a running mean (its last bits depend on how the readings were grouped): to 1e-9. */
function withoutQuality(list: Row[]) {
  return list.map(({ q, ...rest }) => rest);
}

describe("BuildingTelemetry: a batch aggregates exactly as the same readings one by one", () => {
  it("one by one, in batches of uneven sizes (minutes split across batches, a rollup between), and in one reversed batch: identical minute and hourly aggregates", async () => {
    const readings = readingsOf(baseHour() + 30 * MINUTE);
    const one = building(freshName("eq-one"));
    const batched = building(freshName("eq-batched"));
    const reversed = building(freshName("eq-reversed"));

    for (const r of readings) await one.ingest(r);
    const sizes = [1, 2, 3, 50, 7, 120, 1, 250];
    for (let i = 0, k = 0; i < readings.length; k++) {
      const size = sizes[k % sizes.length];
      await batched.ingestBatch(readings.slice(i, i + size));
      i += size;
      // A rollup in the middle: the hours must still come out once, exactly.
      if (k === 4) await rollup(batched);
    }
    await reversed.ingestBatch([...readings].reverse());

    const want = expected(readings, MINUTE);
    expect(want.length).toBeGreaterThan(60);
    expect(want.some((g) => g.n > 1)).toBe(true);
    const minutes = {
      one: await rows<Row>(one, MINUTES),
      batched: await rows<Row>(batched, MINUTES),
      reversed: await rows<Row>(reversed, MINUTES),
    };
    const wantMinutes = want.map(({ at, ...g }) => ({ ...g, minute: at }));
    for (const got of Object.values(minutes)) {
      expect(withoutQuality(got)).toEqual(withoutQuality(wantMinutes));
      for (const [i, row] of got.entries()) expect(row.q).toBeCloseTo(wantMinutes[i].q, 9);
    }
    expect(withoutQuality(minutes.batched)).toEqual(withoutQuality(minutes.one));
    expect(withoutQuality(minutes.reversed)).toEqual(withoutQuality(minutes.one));

    for (const b of [one, batched, reversed]) await rollup(b);
    const wantHours = expected(readings, HOUR).map(({ at, q, ...g }) => ({
      ...g,
      hour: at,
      avg: g.sum / g.n,
    }));
    expect(new Set(wantHours.map((h) => h.hour)).size).toBe(2);
    const hours = await rows<Row>(one, HOURS);
    expect(hours).toEqual(wantHours);
    expect(await rows<Row>(batched, HOURS)).toEqual(hours);
    expect(await rows<Row>(reversed, HOURS)).toEqual(hours);
  });
});
