// Analytics bench: RegionalAnalytics.ingest (validation, HMAC of the user id, bucket upsert with the
// once-per-bucket unique checks, raw insert, session upsert, in one transaction) against a
// hand-written Durable Object doing the same SQL and hashing; single events and batches of 500.

import { percentile } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const SINGLE = QUICK ? 100 : 1000;
const BATCHED = QUICK ? 1_000 : 10_000;

const run = (variant, n, batch) => (base, round) =>
  post(base, `/bench/analytics/${variant}/analytics-${variant}-${batch}-${round % 4}?n=${n}&batch=${batch}`);

/** Events per second of one side, from its best of 3 calls. */
async function best(base, variant, n, batch) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run(variant, n, batch)(base, 10 + i);
    min = Math.min(min, performance.now() - t0);
  }
  return Math.round((n / min) * 1000);
}

const HTTP_REQUESTS = QUICK ? 20 : 100;
const LATENCY_REQUESTS = QUICK ? 60 : 600;
let seq = 0;

/** `count` single-event ingests one after another on a keep-alive connection; each latency in ms. */
async function sequentialIngests(base, side, count) {
  const url = side === "plain" ? `${base}/plain-http/analytics/us/ingest` : `${base}/analytics/us/ingest`;
  const run = `${side}-${Date.now()}-${seq++}`;
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({
      sessionId: `${run}-s${i % 50}`,
      eventType: "page_view",
      pageUrl: `https://shop.example/p${i % 5}?ref=${i}`,
      timestamp: Date.now(),
      userId: `${run}-u${i % 20}`,
      ipAddress: "198.51.100.7",
      userAgent: "bench/1.0",
      properties: { i },
    });
    const t0 = performance.now();
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.text();
    if (res.status !== 200) throw new Error(`${side}: HTTP ${res.status}`);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

export default [
  {
    name: `analytics ingest ×${SINGLE} single events in one call: RegionalAnalytics vs hand-written DO`,
    ops: SINGLE,
    seed: { figure: "5,000–10,000 events/s per regional DO, single events (USE_CASES 3)", top: 10_000 },
    goal: 1.1,
    subject: run("actor", SINGLE, 1),
    baseline: run("plain", SINGLE, 1),
    async extra(base) {
      return {
        "events/s RegionalAnalytics, single (best of 3)": await best(base, "actor", SINGLE, 1),
        "events/s RegionalAnalytics without history/forward/tiering, single (best of 3)": await best(
          base,
          "bare",
          SINGLE,
          1,
        ),
        "events/s hand-written DO, single (best of 3)": await best(base, "plain", SINGLE, 1),
      };
    },
  },
  {
    name: `analytics ingest ×${BATCHED} in batches of 500: RegionalAnalytics vs hand-written DO`,
    ops: BATCHED,
    seed: { figure: "20,000–50,000 events/s, batches of 100–500 (USE_CASES 3)", top: 50_000 },
    goal: 1.1,
    subject: run("actor", BATCHED, 500),
    baseline: run("plain", BATCHED, 500),
    async extra(base) {
      return {
        "events/s RegionalAnalytics, batches of 500 (best of 3)": await best(base, "actor", BATCHED, 500),
        "events/s RegionalAnalytics without history/forward/tiering, batches of 500 (best of 3)": await best(
          base,
          "bare",
          BATCHED,
          500,
        ),
        "events/s hand-written DO, batches of 500 (best of 3)": await best(base, "plain", BATCHED, 500),
      };
    },
  },

  {
    name: `analytics ingest over HTTP, ${HTTP_REQUESTS} sequential single events: coordinator vs hand-written Worker`,
    ops: HTTP_REQUESTS,
    seed: { figure: "ingestion latency p50 5–15 ms, p99 30–50 ms (USE_CASES 3)" },
    goal: 1.3,
    // 6 rounds: its latency figures come from the extra interleaved runs.
    rounds: 6,
    subject: (base) => sequentialIngests(base, "actor", HTTP_REQUESTS),
    baseline: (base) => sequentialIngests(base, "plain", HTTP_REQUESTS),
    async extra(base) {
      const lat = { actor: [], plain: [] };
      for (let k = 0; k < 6; k++)
        for (const side of k % 2 ? ["plain", "actor"] : ["actor", "plain"])
          lat[side].push(...(await sequentialIngests(base, side, LATENCY_REQUESTS / 6)));
      const ms = (x) => `${x.toFixed(2)} ms`;
      const row = (side) => `${ms(percentile(lat[side], 0.5))} / ${ms(percentile(lat[side], 0.99))}`;
      return {
        [`coordinator p50 / p99 (${LATENCY_REQUESTS} sequential)`]: row("actor"),
        [`hand-written p50 / p99 (${LATENCY_REQUESTS} sequential)`]: row("plain"),
        "p50 ratio": (percentile(lat.actor, 0.5) / percentile(lat.plain, 0.5)).toFixed(2),
        "p99 ratio": (percentile(lat.actor, 0.99) / percentile(lat.plain, 0.99)).toFixed(2),
      };
    },
  },
];
