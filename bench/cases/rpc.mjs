// Socket RPC and live queries (src/rpc): a small call over the SKU's socket vs the same call over
// HTTP through the coordinator, and the fan-out of one commit to 100 live-query sockets.
import { percentile } from "../goal.mjs";
import { QUICK } from "../quick.mjs";

const CALLS = QUICK ? 50 : 200;
const SOCKETS = QUICK ? 10 : 100;
const COMMITS = 10;
const STOCK = 10_000_000;

const json = (base, path, body) =>
  fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => {
    const text = await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  });

/** A raw socket (Node 22's global WebSocket) with `{ id, method, args }` calls and a frame hook. */
async function open(base, sku, onFrame = () => {}) {
  const ws = new WebSocket(`${base.replace("http", "ws")}/inventory/${sku}/ws`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  const waiting = new Map();
  let seq = 0;
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    const done = waiting.get(frame.id);
    if (done) {
      waiting.delete(frame.id);
      done(frame);
    } else onFrame(frame);
  });
  return {
    ws,
    call(method, ...args) {
      const id = `c${seq++}`;
      return new Promise((resolve, reject) => {
        waiting.set(id, (f) => (f.error ? reject(new Error(f.error.code)) : resolve(f.result)));
        ws.send(JSON.stringify({ id, method, args }));
      });
    },
    subscribe(sql) {
      const id = `live-${seq++}`;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        ws.send(JSON.stringify({ id, subscribe: { sql } }));
      });
    },
  };
}

const ms = (x) => `${x.toFixed(2)} ms`;

let socket;
async function socketCalls(count, latencies) {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await socket.call("status");
    latencies?.push(performance.now() - t0);
  }
}
async function httpCalls(base, count, latencies) {
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await json(base, "/inventory/rpc-bench/status");
    latencies?.push(performance.now() - t0);
  }
}

let listeners = [];
let fanoutSeq = 0;
/** One reserve over HTTP; resolves when every live-query socket got its push (or at once without sockets). */
async function commitAndWait(base, sku, latencies) {
  const pending = listeners.map(
    (l) =>
      new Promise((resolve) => {
        l.next = resolve;
      }),
  );
  const t0 = performance.now();
  await json(base, `/inventory/${sku}/reserve`, { orderId: `f-${fanoutSeq++}`, quantity: 1 });
  const arrivals = await Promise.all(pending);
  for (const at of arrivals) latencies?.push(at - t0);
}

export default [
  {
    name: `socket RPC status() ×${CALLS} sequential vs the same over HTTP through the coordinator`,
    rounds: 12,
    async setup(base) {
      await json(base, "/inventory/rpc-bench/restock", { quantity: STOCK });
      socket = await open(base, "rpc-bench");
    },
    subject: () => socketCalls(CALLS),
    baseline: (base) => httpCalls(base, CALLS),
    async extra(base) {
      const lat = { socket: [], http: [] };
      for (let k = 0; k < 10; k++)
        for (const side of k % 2 ? ["http", "socket"] : ["socket", "http"])
          if (side === "socket") await socketCalls(100, lat.socket);
          else await httpCalls(base, 100, lat.http);
      socket.ws.close();
      const row = (xs) => `${ms(percentile(xs, 0.5))} / ${ms(percentile(xs, 0.99))}`;
      return {
        "socket p50 / p99 (1000 calls, interleaved)": row(lat.socket),
        "HTTP p50 / p99 (1000 calls, interleaved)": row(lat.http),
        "p50 ratio socket ÷ HTTP": (percentile(lat.socket, 0.5) / percentile(lat.http, 0.5)).toFixed(2),
        "p99 ratio socket ÷ HTTP": (percentile(lat.socket, 0.99) / percentile(lat.http, 0.99)).toFixed(2),
      };
    },
  },
  {
    name: `live query fan-out: reserve + its push to ${SOCKETS} sockets vs the reserve alone, ${COMMITS} commits`,
    rounds: 8,
    async setup(base) {
      await json(base, "/inventory/fanout/restock", { quantity: STOCK });
      await json(base, "/inventory/fanout-alone/restock", { quantity: STOCK });
      for (let i = 0; i < SOCKETS; i++) {
        const listener = { next: null };
        const s = await open(base, "fanout", (frame) => {
          if (frame.sub !== undefined && listener.next) {
            const done = listener.next;
            listener.next = null;
            done(performance.now());
          }
        });
        const answer = await s.subscribe("SELECT sku, available, reserved, sold FROM inventory");
        if (!answer.result) throw new Error(`subscribe: ${JSON.stringify(answer)}`);
        listener.socket = s;
        listeners.push(listener);
      }
    },
    subject: async (base) => {
      for (let i = 0; i < COMMITS; i++) await commitAndWait(base, "fanout");
    },
    baseline: async (base) => {
      const saved = listeners;
      listeners = [];
      try {
        for (let i = 0; i < COMMITS; i++) await commitAndWait(base, "fanout-alone");
      } finally {
        listeners = saved;
      }
    },
    async extra(base) {
      const lat = [];
      for (let i = 0; i < 20; i++) await commitAndWait(base, "fanout", lat);
      for (const l of listeners) l.socket.ws.close();
      return {
        [`commit → push received, ${SOCKETS} sockets × 20 commits: p50 / p99 / max`]: `${ms(percentile(lat, 0.5))} / ${ms(percentile(lat, 0.99))} / ${ms(Math.max(...lat))}`,
      };
    },
  },
];
