// Inventory bench: the InventorySKU reserve (select, insert, update, log insert in one transaction)
// against a hand-written Durable Object doing the same SQL; in one call, and over HTTP.
import autocannon from "autocannon";

const N = 5000;
const HTTP_REQUESTS = 300;
const LATENCY_REQUESTS = 2000;
const post = (base, path, body) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => {
    const text = await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
    return text;
  });

const inActor = (variant) => (base, round) =>
  post(base, `/bench/reserve/${variant}/reserve-${variant}-${round % 4}?n=${N}`);

let seq = 0;
/** One connection, `amount` reserves of 1 with a fresh order id each; resolves to autocannon's result. */
function reserveOverHttp(base, prefix, sku, amount) {
  const run = `${prefix}-${Date.now()}-${seq++}`;
  let i = 0;
  return autocannon({
    url: `${base}/${prefix === "plain" ? "plain-http/inventory" : "inventory"}/${sku}/reserve`,
    method: "POST",
    connections: 1,
    amount,
    headers: { "content-type": "application/json" },
    requests: [
      {
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ orderId: `${run}-${i++}`, quantity: 1 }) }),
      },
    ],
  }).then((result) => {
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${prefix}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return result;
  });
}

const STOCK = 10_000_000;

export default [
  {
    name: `inventory reserve ×${N} in one call: InventorySKU vs hand-written DO (history off)`,
    goal: 1.1,
    subject: inActor("actor"),
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
        "reserves/s InventorySKU (best of 3)": await best("actor"),
        "reserves/s hand-written": await best("plain"),
      };
    },
  },
  {
    name: `inventory reserve over HTTP, ${HTTP_REQUESTS} requests on 1 connection: coordinator vs hand-written Worker`,
    goal: 1.3,
    async setup(base) {
      await post(base, "/inventory/http-actor/restock", { quantity: STOCK });
      await post(base, "/plain-http/inventory/http-plain/restock", { quantity: STOCK });
    },
    subject: (base) => reserveOverHttp(base, "actor", "http-actor", HTTP_REQUESTS),
    baseline: (base) => reserveOverHttp(base, "plain", "http-plain", HTTP_REQUESTS),
    async extra(base) {
      const a = await reserveOverHttp(base, "actor", "http-actor", LATENCY_REQUESTS);
      const p = await reserveOverHttp(base, "plain", "http-plain", LATENCY_REQUESTS);
      const ms = (x) => `${x.toFixed(2)} ms`;
      return {
        [`coordinator p50 / p99 (${LATENCY_REQUESTS} requests)`]: `${ms(a.latency.p50)} / ${ms(a.latency.p99)}`,
        [`hand-written p50 / p99 (${LATENCY_REQUESTS} requests)`]: `${ms(p.latency.p50)} / ${ms(p.latency.p99)}`,
        "p50 ratio": (a.latency.p50 / p.latency.p50).toFixed(2),
        "p99 ratio": (a.latency.p99 / p.latency.p99).toFixed(2),
      };
    },
  },
];
