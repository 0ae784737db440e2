// Telemetry bench: BuildingTelemetry ingest (raw rows + minute-aggregate upserts in one
// transaction) against a hand-written Durable Object doing the same SQL, in batches of 500 and
// one reading at a time, inside one call; and the alert latency from the ingest request to the
// WebSocket frame on loopback.

import { percentile } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const N = QUICK ? 2_000 : 20_000;
const SINGLES = QUICK ? 200 : 2_000;

let seq = 0;
const ingest = (variant, n, size) => (base) =>
  post(base, `/bench/telemetry/${variant}/tel-${variant}-${size}-${seq++}?n=${n}&size=${size}`);

/** Best-of-3 readings/s of one side. */
async function rate(base, variant, n, size) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await ingest(variant, n, size)(base);
    min = Math.min(min, performance.now() - t0);
  }
  return Math.round((n / min) * 1000);
}

/** Ingest → `alert` frame on the alerts socket, `count` times (each breach then a recovery). */
async function alertLatencies(base, count) {
  const building = `latency-${Date.now()}`;
  const http = base.replace(/^http/, "http");
  await post(http, `/buildings/${building}/alerts/rules`, {
    sensorType: "co2",
    condition: "gt",
    thresholdValue: 1000,
    cooldownSeconds: 0,
  });
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/buildings/${building}/alerts/ws`);
  const waiting = [];
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "alert") waiting.shift()?.(performance.now());
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  const latencies = [];
  const t = Date.now() - 60_000;
  for (let i = 0; i < count; i++) {
    const arrived = new Promise((resolve) => waiting.push(resolve));
    const t0 = performance.now();
    await post(http, `/buildings/${building}/ingest`, {
      sensorId: "r-1",
      sensorType: "co2",
      value: 1500,
      unit: "ppm",
      timestamp: t + i * 2,
    });
    latencies.push((await arrived) - t0);
    await post(http, `/buildings/${building}/ingest`, {
      sensorId: "r-1",
      sensorType: "co2",
      value: 500,
      unit: "ppm",
      timestamp: t + i * 2 + 1,
    });
  }
  ws.close();
  return latencies;
}

export default [
  {
    name: `telemetry ingest ×${N} in batches of 500, one call: BuildingTelemetry vs hand-written DO`,
    ops: N,
    seed: {
      figure:
        "50,000–100,000 readings/s per building, batches of 500; end-to-end alert 10–50 ms (USE_CASES 5)",
      top: 100_000,
    },
    goal: 1.1,
    rounds: 10,
    subject: ingest("actor", N, 500),
    baseline: ingest("plain", N, 500),
    async extra(base) {
      const lat = await alertLatencies(base, 200);
      return {
        "readings/s batched 500, BuildingTelemetry (best of 3)": await rate(base, "actor", N, 500),
        "readings/s batched 500, BuildingTelemetry without the outbox": await rate(base, "local", N, 500),
        "readings/s batched 500, hand-written DO (best of 3)": await rate(base, "plain", N, 500),
        "readings/s single, BuildingTelemetry (best of 3)": await rate(base, "actor", SINGLES, 1),
        "readings/s single, BuildingTelemetry, empty WAL (fresh building)": await rate(
          base,
          "actor-cold",
          SINGLES,
          1,
        ),
        "readings/s single, BuildingTelemetry without the outbox": await rate(base, "local", SINGLES, 1),
        "readings/s single, hand-written DO (best of 3)": await rate(base, "plain", SINGLES, 1),
        "alert latency ingest→frame p50 ms (HTTP ingest, loopback)": Number(percentile(lat, 0.5).toFixed(2)),
        "alert latency ingest→frame p99 ms": Number(percentile(lat, 0.99).toFixed(2)),
      };
    },
  },
  {
    name: `telemetry ingest ×${SINGLES} single readings, one call: BuildingTelemetry vs hand-written DO`,
    ops: SINGLES,
    seed: { figure: "2,000–5,000 readings/s per building, single readings (USE_CASES 5)", top: 5_000 },
    goal: 1.1,
    rounds: 10,
    subject: ingest("actor", SINGLES, 1),
    baseline: ingest("plain", SINGLES, 1),
  },
];
