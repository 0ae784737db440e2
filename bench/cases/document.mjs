// CollaborativeDocument bench: 50 sockets on one document, through the coordinator's
// `/documents/:doc/ws`, against a hand-written Durable Object doing the same SQL and broadcast
// (`/hand-documents/:doc/ws`). A round: every client sends its inserts at once; it ends when every
// client has every operation (its own as ack, the others' as operation frames).
import { atLeast, atMost, percentile } from "../goal.mjs";
import { QUICK } from "../quick.mjs";

const CLIENTS = 50;
const OPS_PER_CLIENT = QUICK ? 5 : 20;
const LATENCY_SAMPLES = QUICK ? 40 : 200;

const ms = (x) => `${x.toFixed(2)} ms`;

/** One side: `CLIENTS` sockets on one document, counting the edit frames each receives. */
async function openSide(base, side) {
  const doc = `bench-${side}-${Date.now()}`;
  const path = side === "actor" ? `/documents/${doc}/ws` : `/hand-documents/${doc}/ws`;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}?userId=u${i}&userName=U${i}`);
    const client = { ws, edits: 0, waiters: [], seen: new Map() };
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "error") throw new Error(`${side}: ${frame.code} ${frame.message}`);
      if (frame.type !== "operation" && frame.type !== "ack") return;
      client.edits++;
      const blockId = frame.type === "ack" ? frame.data.operation.blockId : frame.data.blockId;
      client.seen.set(blockId, performance.now());
      for (const w of client.waiters.splice(0)) w();
    });
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", reject, { once: true });
    });
    clients.push(client);
  }
  const until = (client, test) =>
    new Promise((resolve) => {
      const check = () => (test() ? resolve() : client.waiters.push(check));
      check();
    });
  let seq = 0;
  return {
    /** Every client sends OPS_PER_CLIENT inserts at once; resolves when every client has them all. */
    async burst() {
      const run = seq++;
      const targets = clients.map((c) => c.edits + CLIENTS * OPS_PER_CLIENT);
      clients.forEach((c, i) => {
        for (let k = 0; k < OPS_PER_CLIENT; k++)
          c.ws.send(
            JSON.stringify({
              type: "operation",
              id: `${run}-${i}-${k}`,
              data: { type: "insert", blockId: `b${run}-${i}-${k}`, content: k },
            }),
          );
      });
      await Promise.all(clients.map((c, i) => until(c, () => c.edits >= targets[i])));
    },
    /** One insert from client 0: ms until the last of the other clients has it. */
    async latency() {
      const blockId = `lat-${seq++}`;
      const t0 = performance.now();
      clients[0].ws.send(
        JSON.stringify({ type: "operation", id: blockId, data: { type: "insert", blockId } }),
      );
      await Promise.all(clients.slice(1).map((c) => until(c, () => c.seen.has(blockId))));
      return Math.max(...clients.slice(1).map((c) => c.seen.get(blockId))) - t0;
    },
    close: () => {
      for (const c of clients) c.ws.close();
    },
  };
}

const sides = {};
const side = async (base, name) => {
  sides[name] ??= await openSide(base, name);
  return sides[name];
};

export default [
  {
    name: `document: ${CLIENTS} clients × ${OPS_PER_CLIENT} inserts at once, until all ${CLIENTS} have all: CollaborativeDocument (coordinator, history on) vs hand-written DO`,
    ops: CLIENTS * OPS_PER_CLIENT,
    seed: {
      figure: "500–1,000 ops/s per document sustained, 2,000–5,000 peak; broadcast p50 5–15 ms (USE_CASES 2)",
      top: 5_000,
    },
    goal: 1.5,
    // 6 rounds: a round is about 17 s of both sides on this machine (the run's longest case).
    rounds: 6,
    async setup(base) {
      await side(base, "actor");
      await side(base, "hand");
    },
    subject: async (base) => (await side(base, "actor")).burst(),
    baseline: async (base) => (await side(base, "hand")).burst(),
    async extra(base, times) {
      // Each side's best round (no more bursts: they are the case's longest part).
      const rate = (name) =>
        Math.round(
          ((CLIENTS * OPS_PER_CLIENT) / Math.min(...times[name === "actor" ? "subject" : "baseline"])) * 1000,
        );
      const lat = { actor: [], hand: [] };
      for (let k = 0; k < LATENCY_SAMPLES; k++)
        for (const name of k % 2 ? ["hand", "actor"] : ["actor", "hand"])
          lat[name].push(await (await side(base, name)).latency());
      const row = (name) => `${ms(percentile(lat[name], 0.5))} / ${ms(percentile(lat[name], 0.99))}`;
      const actorRate = rate("actor");
      const p50 = percentile(lat.actor, 0.5);
      const out = {
        [`ops/s per document, CollaborativeDocument, ${CLIENTS} clients (best round)`]: atLeast(
          actorRate,
          2000,
          actorRate.toLocaleString("en"),
          " ops/s",
        ),
        [`ops/s per document, hand-written DO, ${CLIENTS} clients (best round)`]: rate("hand"),
        [`broadcast latency to the last of ${CLIENTS - 1} receivers, CollaborativeDocument p50 / p99 (${LATENCY_SAMPLES} sequential; the goal is on p50)`]:
          atMost(p50, 5, row("actor"), " ms p50"),
        [`broadcast latency to the last of ${CLIENTS - 1} receivers, hand-written DO p50 / p99`]: row("hand"),
        "latency p50 ratio": (percentile(lat.actor, 0.5) / percentile(lat.hand, 0.5)).toFixed(2),
      };
      for (const s of Object.values(sides)) s.close();
      return out;
    },
  },
];
