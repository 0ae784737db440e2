// Inventory bench: the InventorySKU reserve (select, insert, update, log insert in one transaction)
// against a hand-written Durable Object doing the same SQL; in one call, and over HTTP.

import autocannon from "autocannon";
import { latencyGoals } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;

const N = QUICK ? 200 : 2000;
const HTTP_REQUESTS = QUICK ? 20 : 100;
const LATENCY_REQUESTS = QUICK ? 100 : 1000;
const AUTOCANNON_REQUESTS = QUICK ? 200 : 2000;

const inActor = (variant) => (base, round) =>
  post(base, `/bench/reserve/${variant}/reserve-${variant}-${round % OBJECTS}?n=${N}`);

let seq = 0;
const skuOf = { actor: "http-actor", plain: "http-plain" };
const reserveUrl = (base, side) =>
  `${base}/${side === "plain" ? "plain-http/inventory" : "inventory"}/${skuOf[side]}/reserve`;

/** `count` reserves of 1, one after another on a keep-alive connection; returns each latency in ms. */
async function sequentialReserves(base, side, count) {
  const url = reserveUrl(base, side);
  const run = `${side}-${Date.now()}-${seq++}`;
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ orderId: `${run}-${i}`, quantity: 1 }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`${side}: HTTP ${res.status}`);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** autocannon: `connections` concurrent keep-alive connections, `amount` reserves with fresh order ids. */
function autocannonReserves(base, side, connections, amount) {
  const run = `${side}-ac-${Date.now()}-${seq++}`;
  let i = 0;
  return autocannon({
    url: reserveUrl(base, side),
    method: "POST",
    connections,
    amount,
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ orderId: `${run}-${i++}`, quantity: 1 }) }),
      },
    ],
  }).then((result) => {
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${side}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  });
}

const STOCK = 10_000_000;

export default [
  {
    name: `inventory reserve ×${N} in one call: InventorySKU vs hand-written DO (history off)`,
    ops: N,
    seed: { figure: "5,000–15,000 reserves/s per SKU (USE_CASES 4)", top: 15_000 },
    goal: 1.1,
    rounds: 30,
    objects: OBJECTS,
    subject: inActor("history-off"),
    baseline: inActor("plain"),
    async extra(base) {
      // Throughput of each side from its best of 3 calls.
      const best = async (variant) => {
        let min = Infinity;
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await inActor(variant)(base, 10 + i);
          min = Math.min(min, performance.now() - t0);
        }
        return Math.round((N / min) * 1000);
      };
      return {
        "reserves/s InventorySKU, history off (best of 3)": await best("history-off"),
        "reserves/s InventorySKU, history on (best of 3)": await best("history-on"),
        "reserves/s hand-written DO (best of 3)": await best("plain"),
      };
    },
  },
  {
    name: `inventory reserve ×${N} in one call: InventorySKU vs hand-written DO (history on)`,
    ops: N,
    seed: { figure: "5,000–15,000 reserves/s per SKU (USE_CASES 4)", top: 15_000 },
    goal: 1.5,
    rounds: 30,
    objects: OBJECTS,
    subject: inActor("history-on"),
    baseline: inActor("plain"),
  },
  {
    name: `inventory reserve over HTTP, ${HTTP_REQUESTS} sequential requests: coordinator vs hand-written Worker`,
    ops: HTTP_REQUESTS,
    seed: { figure: "reserve (success) p50 5–15 ms, p99 30 ms (USE_CASES 4)" },
    goal: 1.3,
    // 10 rounds: its p50/p99 come from the extra interleaved runs (1000 requests a side).
    rounds: 10,
    async setup(base) {
      await post(base, "/inventory/http-actor/restock", { quantity: STOCK });
      await post(base, "/plain-http/inventory/http-plain/restock", { quantity: STOCK });
    },
    subject: (base) => sequentialReserves(base, "actor", HTTP_REQUESTS),
    baseline: (base) => sequentialReserves(base, "plain", HTTP_REQUESTS),
    async extra(base) {
      // Latency percentiles from interleaved sequential runs (sub-millisecond timing).
      const lat = { actor: [], plain: [] };
      for (let k = 0; k < 10; k++)
        for (const side of k % 2 ? ["plain", "actor"] : ["actor", "plain"])
          lat[side].push(...(await sequentialReserves(base, side, LATENCY_REQUESTS / 10)));
      // Throughput under load: autocannon, 10 connections.
      const a = await autocannonReserves(base, "actor", 10, AUTOCANNON_REQUESTS);
      const p = await autocannonReserves(base, "plain", 10, AUTOCANNON_REQUESTS);
      return {
        // The goal: p50 and p99 within 1.2× of the hand-written Worker + DO.
        ...latencyGoals(lat, LATENCY_REQUESTS),
        [`autocannon 10 connections, ${AUTOCANNON_REQUESTS} reserves: coordinator req/s, p50/p99`]: `${Math.round(a.requests.average)}, ${a.latency.p50} / ${a.latency.p99} ms`,
        [`autocannon 10 connections, ${AUTOCANNON_REQUESTS} reserves: hand-written req/s, p50/p99`]: `${Math.round(p.requests.average)}, ${p.latency.p50} / ${p.latency.p99} ms`,
      };
    },
  },
];
