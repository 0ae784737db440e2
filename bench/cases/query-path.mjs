// Issue 13, the query path: the reserve workload (one select, two inserts and an update in one
// transaction), 20,000 per call, SqlActor in its documented idiom (history off) against a
// hand-written Durable Object and the peers (partyserver's Server, agents' Agent,
// @cloudflare/actors' Actor) doing the same SQL; InventorySKU.reserve as
// shipped against the same minimal reserve; and the first call of a fresh object (cold start).

import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const N = Number(process.env.BENCH_RESERVES ?? (QUICK ? 2_000 : 20_000));
const INVENTORY_N = QUICK ? 200 : 2000;
const COLD = QUICK ? 5 : 40;
const ROUNDS = Number(process.env.BENCH_PEER_ROUNDS ?? 7);

/** The peer rounds go to this many objects per class (round % PEERS), each warmed by the runner first. */
const PEERS = 2;
/** The inventory rounds: this many objects per variant (round % INVENTORIES). */
const INVENTORIES = 4;
/**
 * Each case has objects of its own (`tag`): objects shared between cases would start each case
 * with the rows earlier cases left, more for a class that appears in more cases (the hand-written
 * object is the baseline of most), so a ratio would depend on the order of the cases.
 */
const peer =
  (variant, tag, n = N) =>
  (base, round) =>
    post(base, `/bench/peer/${variant}/peer-${variant}-${tag}-${round % PEERS}?n=${n}`);

const inventoryPaths = {
  "history-on": (r) => `/bench/reserve/history-on/peer-inventory-${r}`,
  "history-off": (r) => `/bench/reserve/history-off/peer-inventory-off-${r}`,
  plain: (r) => `/bench/reserve/plain/peer-plain-${r}`,
};

export default [
  {
    // Goal: ≥ 0.95× the hand-written object's throughput, i.e. time ratio ≤ 1/0.95.
    name: `query-path: reserve ×${N} per call: SqlActor (history off, this.transaction + this.query) vs hand-written DO`,
    goal: 1.053,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom", "c1"),
    baseline: peer("hand", "c1"),
  },
  {
    name: `query-path: reserve ×${N} per call: partyserver Server (same SQL through ctx.storage.sql) vs hand-written DO`,
    // A peer against the hand-written DO: no goal of ours (the one that counts is the next case).
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("party", "c2"),
    baseline: peer("hand", "c2"),
  },
  {
    // Goal: ≥ partyserver's figure minus 5%.
    name: `query-path: reserve ×${N} per call: SqlActor (history off) vs partyserver Server`,

    goal: 1.053,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom", "c3"),
    baseline: peer("party", "c3"),
  },
  {
    name: `query-path: reserve ×${N} per call: agents Agent (same SQL through this.sql) vs hand-written DO`,
    // A peer against the hand-written DO: no goal of ours (the one that counts is the next case).
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("agent", "c4"),
    baseline: peer("hand", "c4"),
  },
  {
    // The goal: ahead of every peer on every shared scenario.
    name: `query-path: reserve ×${N} per call: SqlActor (history off) vs agents Agent`,
    goal: 1,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom", "c5"),
    baseline: peer("agent", "c5"),
  },
  {
    name: `query-path: reserve ×${N} per call: @cloudflare/actors Actor (same SQL through this.sql) vs hand-written DO`,
    // A peer against the hand-written DO: no goal of ours (the one that counts is the next case).
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("actors", "c6"),
    baseline: peer("hand", "c6"),
  },
  {
    // The goal: ahead of every peer on every shared scenario.
    name: `query-path: reserve ×${N} per call: SqlActor (history off) vs @cloudflare/actors Actor`,
    goal: 1,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom", "c7"),
    baseline: peer("actors", "c7"),
  },
  {
    // Goal: history on ≥ 0.77× the hand-written object (time ratio ≤ 1.3).
    name: `query-path: reserve ×${N} per call: SqlActor, history on for two of the three tables, vs hand-written DO`,
    goal: 1.3,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom-history", "c8"),
    baseline: peer("hand", "c8"),
  },
  {
    // Goal: history on ≤ 1.3× history off.
    name: `query-path: reserve ×${N} per call: SqlActor history on (two of three tables) vs history off`,
    goal: 1.3,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom-history", "c9"),
    baseline: peer("idiom", "c9"),
  },
  {
    // No goal: the floor of history by triggers (bench/actors/peers.ts HandImagesReserve), what
    // SQLite charges for one row image per change with no bookkeeping at all, beside the goal above.
    name: `query-path: reserve ×${N} per call: hand-written DO + hand-written image triggers (the floor of capture) vs hand-written DO`,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("hand-images", "c10"),
    baseline: peer("hand", "c10"),
  },
  {
    // No goal: what SqlActor's history costs beyond that floor (transaction ids and times, the close).
    name: `query-path: reserve ×${N} per call: SqlActor history on (two of three tables) vs hand-written image triggers`,
    rounds: ROUNDS,
    objects: PEERS,
    subject: peer("idiom-history", "c11"),
    baseline: peer("hand-images", "c11"),
  },
  {
    // Goal: InventorySKU.reserve as shipped (history on, its own SQL) ≥ 0.5× the minimal reserve.
    name: `query-path: reserve ×${INVENTORY_N} per call: InventorySKU.reserve as shipped (history on) vs the minimal hand-written reserve`,
    ops: INVENTORY_N,
    seed: { figure: "5,000–15,000 reserves/s per SKU (USE_CASES 4)", top: 15_000 },
    goal: 2,
    rounds: ROUNDS * 2,
    objects: INVENTORIES,
    subject: (base, round) =>
      post(base, `${inventoryPaths["history-on"](round % INVENTORIES)}?n=${INVENTORY_N}`),
    baseline: peer("hand", "c12", INVENTORY_N),
  },
  // Where InventorySKU's time goes: its richer SQL, the framework, history.
  {
    name: `query-path: reserve ×${INVENTORY_N}: InventorySKU's SQL hand-written (PlainInventory) vs the minimal hand-written reserve`,
    rounds: ROUNDS * 2,
    objects: INVENTORIES,
    subject: (base, round) => post(base, `${inventoryPaths.plain(round % INVENTORIES)}?n=${INVENTORY_N}`),
    baseline: peer("hand", "c13", INVENTORY_N),
  },
  {
    name: `query-path: reserve ×${INVENTORY_N}: InventorySKU history on vs history off`,
    rounds: ROUNDS * 2,
    objects: INVENTORIES,
    subject: (base, round) =>
      post(base, `${inventoryPaths["history-on"](round % INVENTORIES)}?n=${INVENTORY_N}`),
    baseline: (base, round) =>
      post(base, `${inventoryPaths["history-off"](round % INVENTORIES)}?n=${INVENTORY_N}`),
  },
  {
    name: `query-path: cold start, ${COLD} fresh objects (construct + schema + first reserve): SqlActor vs hand-written DO`,
    ops: COLD,
    seed: { figure: "DO cold start 50–100 ms p50, 200 ms p99 (USE_CASES 1)" },
    rounds: ROUNDS,
    subject: (base) => post(base, `/bench/cold/idiom?n=${COLD}`),
    baseline: (base) => post(base, `/bench/cold/hand?n=${COLD}`),
  },
  {
    name: `query-path: cold start, ${COLD} fresh objects: partyserver Server vs hand-written DO`,
    rounds: ROUNDS,
    subject: (base) => post(base, `/bench/cold/party?n=${COLD}`),
    baseline: (base) => post(base, `/bench/cold/hand?n=${COLD}`),
  },
  {
    name: `query-path: cold start, ${COLD} fresh objects: @cloudflare/actors Actor vs hand-written DO`,
    rounds: ROUNDS,
    subject: (base) => post(base, `/bench/cold/actors?n=${COLD}`),
    baseline: (base) => post(base, `/bench/cold/hand?n=${COLD}`),
  },
];
