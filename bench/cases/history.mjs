// History (issue 4): what capture costs on writes, and what AS OF costs on reads.

import { postJson } from "../http.mjs";
import { QUICK } from "../quick.mjs";

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;

const N = Number(process.env.BENCH_HISTORY_N ?? (QUICK ? 200 : 2000));

const asOf = { at: 0 };

export default [
  {
    name: `history write cost: ${N} reserves (select, insert, update, log insert) per call, history on vs off`,
    // The goal: history on ≤ 1.3× off.
    goal: 1.3,
    ops: N,
    seed: { figure: "WAL write 1–3 ms per operation (USE_CASES 2)" },
    objects: OBJECTS,
    subject: (base, round) => postJson(base, `/bench/history-write/on/hw-on-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => postJson(base, `/bench/history-write/off/hw-off-${round % OBJECTS}?n=${N}`),
  },
  {
    name: `history write cost: ${N} reserves per call, history off (this.run) vs hand-written DO`,
    goal: 1 / 0.95,
    objects: OBJECTS,
    subject: (base, round) => postJson(base, `/bench/history-write/off/hw-off-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => postJson(base, `/bench/history-write/hand/hw-hand-${round % OBJECTS}?n=${N}`),
  },
  {
    name: `history write cost: ${N} reserves per call, history on vs hand-written DO`,
    // History on ≤ 1.3× off, off ≤ 1/0.95 × hand: on ≤ 1.3/0.95 × hand.
    goal: 1.3 / 0.95,
    objects: OBJECTS,
    subject: (base, round) => postJson(base, `/bench/history-write/on/hw-on-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => postJson(base, `/bench/history-write/hand/hw-hand-${round % OBJECTS}?n=${N}`),
  },
  {
    name: "history AS OF on a 100,000-row table with 10% changed since vs the plain query (all rows read in the DO)",
    seed: { figure: "time travel query 20–50 ms p50 (USE_CASES 2)" },
    goal: 3,
    rounds: 8,
    setup: async (base) => {
      asOf.at = (await postJson(base, "/bench/history-asof/setup/asof")).at;
    },
    subject: (base) => postJson(base, `/bench/history-asof/asof/asof?at=${asOf.at}`),
    baseline: (base) => postJson(base, "/bench/history-asof/plain/asof"),
  },
  {
    name: "history AS OF, count and sum only (SQLite's work, no rows materialized) vs the plain query",
    rounds: 8,
    subject: (base) => postJson(base, `/bench/history-asof/asof/asof?sum=1&at=${asOf.at}`),
    baseline: (base) => postJson(base, "/bench/history-asof/plain/asof?sum=1"),
  },
];
