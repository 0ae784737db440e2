// Telemetry bench: BuildingTelemetry ingest (raw rows + minute-aggregate upserts in one
// transaction) against a hand-written Durable Object doing the same SQL, in batches of 500 and
// one reading at a time, inside one call, into a building of each side that stays awake across
// rounds (the first wake of a fresh building is its own row); and the alert latency from the ingest to the `alert`
// frame, two ways, each beside a hand-written DO pushing the same frame on the same path: over
// HTTP from Node (fetch, then the frame on a Node WebSocket, through wrangler dev on loopback),
// with the bare HTTP round trip beside it; and inside the bench Worker (an RPC ingest, the frame
// on a socket the Worker holds), which leaves Node's HTTP out.

import { percentile } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const N = QUICK ? 2_000 : 20_000;
const SINGLES = QUICK ? 200 : 2_000;

let seq = 0;
const started = Date.now();
/**
 * `n` readings in one call to one side. Steady (the default): always the same building of that
 * side and size, so a round measures ingest into a building that is awake and written before, as
 * a gateway's building is; `fresh`: a new building each call, its first wake (schema, the
 * framework's tables, the name's registration) included.
 */
const ingest =
  (variant, n, size, fresh = false, steady = "steady") =>
  (base) =>
    post(
      base,
      `/bench/telemetry/${variant}/tel-${variant}-${size}-${fresh ? seq++ : steady}-${started}?n=${n}&size=${size}`,
    );

/**
 * Best-of-3 readings/s of one side, into a building of its own that only these calls write, so
 * every side's figure is taken at the same table sizes (the rounds' buildings hold as many rows
 * as the rounds wrote, and an insert costs more as the indexes grow).
 */
async function rate(base, variant, n, size, fresh = false) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await ingest(variant, n, size, fresh, "rate")(base);
    min = Math.min(min, performance.now() - t0);
  }
  return Math.round((n / min) * 1000);
}

const ALERTS = QUICK ? 10 : 25;
const RTT_SAMPLES = QUICK ? 40 : 200;
const ms = (xs) => `${percentile(xs, 0.5).toFixed(2)} / ${percentile(xs, 0.99).toFixed(2)}`;
const p50 = (xs) => Number(percentile(xs, 0.5).toFixed(2));

/**
 * One side's alert path from Node: a rule (co2 > 1000, no cooldown), a WebSocket on its alerts
 * socket, then per sample an HTTP ingest of a breach, timed to its response and to its `alert`
 * frame, then a recovery (until its `alert-resolved` frame). `actor`: the coordinator's
 * `/buildings/:b/...`; `hand`: the hand-written Worker's `/hand-buildings/:b/...` (PlainBuilding).
 */
async function httpSide(base, side) {
  const building = `latency-${side}-${Date.now()}`;
  const prefix = side === "actor" ? `/buildings/${building}` : `/hand-buildings/${building}`;
  if (side === "actor")
    await post(base, `${prefix}/alerts/rules`, {
      sensorType: "co2",
      condition: "gt",
      thresholdValue: 1000,
      cooldownSeconds: 0,
    });
  else await post(base, `${prefix}/rules`, { sensorType: "co2", threshold: 1000 });
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}${prefix}/alerts/ws`);
  const waiting = new Map();
  const frame = (type) => new Promise((resolve) => waiting.set(type, resolve));
  const init = frame("init");
  ws.addEventListener("message", (event) => {
    const at = performance.now();
    const { type } = JSON.parse(event.data);
    const resolve = waiting.get(type);
    waiting.delete(type);
    resolve?.(at);
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  await init;
  const stats = { frame: [], response: [] };
  const t = Date.now() - 60_000;
  let i = 0;
  const reading = (value, timestamp) => ({
    sensorId: "r-1",
    sensorType: "co2",
    value,
    unit: "ppm",
    timestamp,
  });
  return {
    stats,
    async samples(k, record) {
      for (let n = 0; n < k; n++, i++) {
        const alert = frame("alert");
        const t0 = performance.now();
        await post(base, `${prefix}/ingest`, reading(1500, t + i * 2));
        const answered = performance.now();
        const arrived = await alert;
        if (record) {
          stats.frame.push(arrived - t0);
          stats.response.push(answered - t0);
        }
        const resolved = frame("alert-resolved");
        await post(base, `${prefix}/ingest`, reading(500, t + i * 2 + 1));
        await resolved;
      }
    },
    close: () => ws.close(),
  };
}

const http = {};
const httpOf = async (base, side) => {
  http[side] ??= await httpSide(base, side);
  return http[side];
};

/** p50 of `n` sequential POSTs to `path` (ms). */
async function roundTrips(base, path, n) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await post(base, path);
    xs.push(performance.now() - t0);
  }
  return xs;
}

/** The in-Worker loop (bench/worker.ts `/bench/telemetry-alert`): `k` alerts, their times by the Worker's clock. */
const inWorker = { actor: [], hand: [] };
const inWorkerNames = { actor: `in-worker-actor-${Date.now()}`, hand: `in-worker-hand-${Date.now()}` };
const alertLoop = (side) => async (base, round) => {
  const { ms: times } = JSON.parse(
    await post(base, `/bench/telemetry-alert/${side}/${inWorkerNames[side]}?k=${ALERTS}`),
  );
  if (round >= 0) inWorker[side].push(...times);
};

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
      return {
        "readings/s batched 500, BuildingTelemetry (best of 3)": await rate(base, "actor", N, 500),
        "readings/s batched 500, BuildingTelemetry without the outbox": await rate(base, "local", N, 500),
        "readings/s batched 500, hand-written DO (best of 3)": await rate(base, "plain", N, 500),
        "readings/s single, BuildingTelemetry (best of 3)": await rate(base, "actor", SINGLES, 1),
        "readings/s single, BuildingTelemetry without the outbox": await rate(base, "local", SINGLES, 1),
        "readings/s single, fresh building each call (first wake included), BuildingTelemetry": await rate(
          base,
          "actor",
          SINGLES,
          1,
          true,
        ),
        "readings/s single, fresh building, BuildingTelemetry, empty WAL (no first rollup)": await rate(
          base,
          "actor-cold",
          SINGLES,
          1,
          true,
        ),
        "readings/s single, fresh building each call, hand-written DO": await rate(
          base,
          "plain",
          SINGLES,
          1,
          true,
        ),
        "readings/s single, hand-written DO (best of 3)": await rate(base, "plain", SINGLES, 1),
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
  {
    name: `telemetry alert ×${ALERTS} over HTTP (Node fetch, frame on a Node WebSocket), each breach then a recovery: BuildingTelemetry (coordinator) vs hand-written Worker + DO`,
    ops: ALERTS,
    seed: { figure: "end-to-end alert 10–50 ms (USE_CASES 5); goal p50 ≤ 5 ms" },
    rounds: 10,
    async setup(base) {
      await httpOf(base, "actor");
      await httpOf(base, "hand");
    },
    subject: async (base, round) => (await httpOf(base, "actor")).samples(ALERTS, round >= 0),
    baseline: async (base, round) => (await httpOf(base, "hand")).samples(ALERTS, round >= 0),
    async extra(base) {
      const [actor, hand] = [http.actor.stats, http.hand.stats];
      const bare = [];
      const ping = [];
      for (let i = 0; i < RTT_SAMPLES / 20; i++) {
        bare.push(...(await roundTrips(base, "/bench/noop", 20)));
        ping.push(...(await roundTrips(base, `/hand-buildings/rtt-${i % 2}/ping`, 20)));
      }
      for (const side of Object.values(http)) side.close();
      return {
        "alert ingest→frame p50 / p99 ms over HTTP, BuildingTelemetry (goal p50 ≤ 5 ms)": ms(actor.frame),
        "alert ingest→frame p50 / p99 ms over HTTP, hand-written Worker + DO": ms(hand.frame),
        "alert ingest→frame p50 ratio over HTTP": Number((p50(actor.frame) / p50(hand.frame)).toFixed(2)),
        "ingest→HTTP response p50 / p99 ms, BuildingTelemetry": ms(actor.response),
        "ingest→HTTP response p50 / p99 ms, hand-written": ms(hand.response),
        [`bare HTTP POST round trip p50 / p99 ms (the Worker answers at once; ${bare.length} sequential)`]:
          ms(bare),
        "HTTP POST → hand Worker → DO call that does nothing, p50 / p99 ms": ms(ping),
      };
    },
  },
  {
    name: `telemetry alert ×${ALERTS} inside the Worker (RPC ingest, frame on a socket the Worker holds), each breach then a recovery: BuildingTelemetry vs hand-written DO`,
    ops: ALERTS,
    seed: { figure: "goal p50 ≤ 5 ms" },
    rounds: 10,
    async setup(base) {
      await post(base, `/buildings/${inWorkerNames.actor}/alerts/rules`, {
        sensorType: "co2",
        condition: "gt",
        thresholdValue: 1000,
        cooldownSeconds: 0,
      });
      await post(base, `/hand-buildings/${inWorkerNames.hand}/rules`, { sensorType: "co2", threshold: 1000 });
    },
    subject: alertLoop("actor"),
    baseline: alertLoop("hand"),
    extra: async () => ({
      "alert RPC ingest→frame p50 / p99 ms in the Worker (workerd's clock), BuildingTelemetry (goal p50 ≤ 5 ms)":
        ms(inWorker.actor),
      "alert RPC ingest→frame p50 / p99 ms in the Worker, hand-written DO": ms(inWorker.hand),
    }),
  },
];
