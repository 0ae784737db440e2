// Analytics bench: RegionalAnalytics.ingest (validation, HMAC of the user id, bucket upsert with the
// once-per-bucket unique checks, raw insert, session upsert, in one transaction: per event for a
// single event, set-based for a batch) against a
// hand-written Durable Object doing the same checks, SQL and hashing; single events and batches
// of 500. Beside them: the hand-written DO without the event rules (what it was before it ran
// them), and the floor, the same SQL on node:sqlite (bench/baselines/raw-analytics.mjs).

import { rawAnalytics, rawAnalyticsSet } from "../baselines/raw-analytics.mjs";
import { percentile } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const SINGLE = QUICK ? 100 : 1000;
const BATCHED = QUICK ? 1_000 : 10_000;

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;
const run = (variant, n, batch) => (base, round) =>
  post(
    base,
    `/bench/analytics/${variant}/analytics-${variant}-${batch}-${round % OBJECTS}?n=${n}&batch=${batch}`,
  );

/** Events per second of one side, from its best of 3 calls to one object, after a call that warms it (a side the rounds never ran starts cold). */
async function best(base, variant, n, batch) {
  let min = Infinity;
  await run(variant, n, batch)(base, 10);
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run(variant, n, batch)(base, 10);
    min = Math.min(min, performance.now() - t0);
  }
  return Math.round((n / min) * 1000);
}

/** Events per second of a node:sqlite floor (`fn(n, batch)` answers ms), best of 3. */
function floor(fn, n, batch) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) min = Math.min(min, fn(n, batch));
  return Math.round((n / min) * 1000);
}

/** The figures reported beside a case: each side's events/s, the hand-written DO without the rules, the floor. */
async function rates(base, n, batch) {
  const sameSql = batch === 1 ? rawAnalytics : rawAnalyticsSet;
  const what = batch === 1 ? "single" : `batches of ${batch}`;
  return {
    [`events/s RegionalAnalytics, ${what} (best of 3)`]: await best(base, "actor", n, batch),
    [`events/s RegionalAnalytics without history/forward/tiering, ${what} (best of 3)`]: await best(
      base,
      "bare",
      n,
      batch,
    ),
    [`events/s hand-written DO, ${what} (best of 3)`]: await best(base, "plain", n, batch),
    [`events/s hand-written DO without the event rules (typeof checks only), ${what} (best of 3)`]:
      await best(base, "plain-lax", n, batch),
    // The actor writes one event with the per-event statements, a batch with the set-based ones.
    [`events/s floor: the same SQL on node:sqlite in memory, ${what} (best of 3)`]: floor(sameSql, n, batch),
    [`events/s floor: the same SQL on node:sqlite, a WAL file, ${what} (best of 3)`]: floor(
      (k, b) => sameSql(k, b, true),
      n,
      batch,
    ),
    ...(batch > 1 && {
      [`events/s per-event statements on node:sqlite in memory (one per event, what batches ran before), ${what} (best of 3)`]:
        floor(rawAnalytics, n, batch),
    }),
  };
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
    // The goal: framework ≥ 0.95× hand.
    goal: 1 / 0.95,
    objects: OBJECTS,
    subject: run("actor", SINGLE, 1),
    baseline: run("plain", SINGLE, 1),
    extra: (base) => rates(base, SINGLE, 1),
  },
  {
    name: `analytics ingest ×${BATCHED} in batches of 500: RegionalAnalytics vs hand-written DO`,
    ops: BATCHED,
    seed: { figure: "20,000–50,000 events/s, batches of 100–500 (USE_CASES 3)", top: 50_000 },
    // The goal: framework ≥ 0.95× hand.
    goal: 1 / 0.95,
    objects: OBJECTS,
    subject: run("actor", BATCHED, 500),
    baseline: run("plain", BATCHED, 500),
    extra: (base) => rates(base, BATCHED, 500),
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
