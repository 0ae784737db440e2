// Wake: an object that is not in memory answering its next call, framework vs hand-written DO in
// the same state. Two real ways an object leaves memory while its storage stays:
// - evicted: `ctx.abort()` (what workerd does to an object it resets; in production an idle object
//   is evicted the same way), then the next call constructs a new instance on the existing
//   database: constructor, migrations check, the first call (SqlActor and InventorySKU: the
//   migration journal, history's triggers, the schedule's alarm re-armed, the fleet told);
// - hibernated: an object holding only hibernatable WebSockets, left idle until workerd evicts it
//   (about 10 s locally), woken by the next message on its socket (InventorySKU's socket RPC
//   `status` vs a hand-written hibernatable socket answering the same SQL).
// Each side times only the wake calls (`{ ms }`: the eviction or the idle wait is not timed), and
// every round checks that each answering object was constructed by that wake (its instance's
// construction time is at or after the wake started); a round where one was not fails the case.
import { postJson } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const K = QUICK ? 5 : 20;
const SOCKETS = QUICK ? 3 : 10;
/** How long the hibernation case leaves its sockets idle (workerd evicts after about 10 s). */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 15_000);
/** Node's clock and workerd's are the machine's; workerd's advances per I/O, so allow a little. */
const SLACK_MS = 5;

const step = (base, variant, what, prefix, n = K) =>
  postJson(base, `/bench/wake/${variant}/${what}?n=${n}&prefix=${prefix}`);

/** Every object `prefix-*` must have been constructed at or after `since` (Node's Date.now()). */
async function assertWoken(base, variant, prefix, since, n) {
  const { bornAt } = await step(base, variant, "born", prefix, n);
  const stale = bornAt.filter((t) => t < since - SLACK_MS).length;
  if (stale > 0) throw new Error(`${variant}: ${stale} of ${n} objects answered without being woken`);
}

/** Evict `K` objects (untimed), then time their first calls, one after another. */
const afterEviction = (variant) => async (base) => {
  const prefix = `wake-${variant}`;
  await step(base, variant, "evict", prefix);
  const since = Date.now();
  const t0 = performance.now();
  await step(base, variant, "call", prefix);
  const ms = performance.now() - t0;
  await assertWoken(base, variant, prefix, since, K);
  return { ms };
};

/** The same `K` calls on the same objects, warm (for the wake's own cost: wake − warm). */
async function warmCalls(base, variant) {
  const prefix = `wake-${variant}`;
  await step(base, variant, "call", prefix);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await step(base, variant, "call", prefix);
    best = Math.min(best, performance.now() - t0);
  }
  return best / K;
}

const evictionCase = (variant, baseline, label) => ({
  name: `wake after eviction (ctx.abort), ${K} objects one after another, each answering its first call (a reserve): ${label}`,
  ops: K,
  seed: { figure: "DO cold start 50–100 ms p50, 200 ms p99 (USE_CASES 1)" },
  // Framework ≥ 0.95× hand.
  goal: 1 / 0.95,
  // 8 rounds of 20 wakes a side (each round also evicts and checks them: about 3× the timed part).
  rounds: 8,
  subject: afterEviction(variant),
  baseline: afterEviction(baseline),
  async extra(base) {
    const ms = (x) => `${x.toFixed(2)} ms`;
    const warm = { subject: await warmCalls(base, variant), baseline: await warmCalls(base, baseline) };
    return {
      "warm call per object (no eviction), framework / hand-written (best of 3)": `${ms(warm.subject)} / ${ms(warm.baseline)}`,
    };
  },
});

// The hibernation case: `SOCKETS` objects per side and round (and one warm-up set), all opened
// in setup, each asked once over its socket, then left idle together for IDLE_MS.
const HIB = { actor: "inventory", hand: "plain-inventory" };
const run = `${Date.now()}`;
const sets = { actor: [], hand: [] };

function openSocket(base, path) {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`);
  const waiting = new Map();
  let seq = 0;
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    const done = waiting.get(frame.id);
    if (!done) return;
    waiting.delete(frame.id);
    done(frame);
  });
  const opened = new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`${path}: socket error`)), { once: true });
  });
  return opened.then(() => ({
    ws,
    status() {
      const id = `w${seq++}`;
      return new Promise((resolve, reject) => {
        waiting.set(id, (f) => (f.error ? reject(new Error(`${path}: ${f.error.code}`)) : resolve(f.result)));
        ws.send(JSON.stringify({ id, method: "status" }));
      });
    },
  }));
}

async function openSet(base, side, index) {
  const variant = HIB[side];
  const prefix = `hib-${side}-${run}-${index}`;
  await step(base, variant, "call", prefix, SOCKETS); // stock the SKUs (status needs one)
  const sockets = [];
  for (let i = 0; i < SOCKETS; i++) {
    const path = side === "actor" ? `/inventory/${prefix}-${i}/ws` : `/hand-inventory/${prefix}-${i}/ws`;
    const socket = await openSocket(base, path);
    await socket.status();
    sockets.push(socket);
  }
  return { prefix, sockets };
}

const wakeSet = (side) => async (base, round) => {
  const set = sets[side][round + 1];
  if (!set) throw new Error(`no socket set for round ${round}`);
  const since = Date.now();
  const t0 = performance.now();
  for (const socket of set.sockets) await socket.status();
  const ms = performance.now() - t0;
  await assertWoken(base, HIB[side], set.prefix, since, SOCKETS);
  for (const socket of set.sockets) socket.ws.close();
  return { ms };
};

const hibernation = {
  name: `wake from WebSocket hibernation (idle ${IDLE_MS / 1000} s), ${SOCKETS} sockets one after another, each answering status(): InventorySKU vs hand-written hibernatable DO`,
  ops: SOCKETS,
  goal: 1 / 0.95,
  // One idle wait for every round: each round wakes its own set of sockets.
  rounds: 5,
  async setup(base, rounds) {
    for (let index = 0; index <= rounds; index++)
      for (const side of ["actor", "hand"]) sets[side][index] = await openSet(base, side, index);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  },
  subject: wakeSet("actor"),
  baseline: wakeSet("hand"),
};

export default [
  evictionCase("idiom", "hand", "SqlActor (history off) vs hand-written DO"),
  evictionCase("inventory", "plain-inventory", "InventorySKU (history on) vs hand-written DO"),
  // Not in --quick: its idle wait alone (15 s, workerd's eviction needs about 10) is an eighth
  // of the quick run's two minutes. `npm run bench -- hibernation` runs it alone.
  ...(QUICK ? [] : [hibernation]),
];
