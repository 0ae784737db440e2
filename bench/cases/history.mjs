// History (issue 4): what capture costs on writes, and what AS OF costs on reads.
import { QUICK } from "../quick.mjs";

const N = Number(process.env.BENCH_HISTORY_N ?? (QUICK ? 200 : 2000));
const post = (base, path) =>
  fetch(`${base}${path}`, { method: "POST" }).then(async (r) => {
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  });

const asOf = { at: 0 };

export default [
  {
    name: `history write cost: ${N} reserves (select, insert, update, log insert) per call, history on vs off`,
    goal: 1.5,
    subject: (base, round) => post(base, `/bench/history-write/on/hw-on-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/history-write/off/hw-off-${round % 4}?n=${N}`),
  },
  {
    name: `history write cost: ${N} reserves per call, history off (this.run) vs hand-written DO`,
    subject: (base, round) => post(base, `/bench/history-write/off/hw-off-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/history-write/hand/hw-hand-${round % 4}?n=${N}`),
  },
  {
    name: `history write cost: ${N} reserves per call, history on vs hand-written DO`,
    subject: (base, round) => post(base, `/bench/history-write/on/hw-on-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/history-write/hand/hw-hand-${round % 4}?n=${N}`),
  },
  {
    name: "history AS OF on a 100,000-row table with 10% changed since vs the plain query (all rows read in the DO)",
    goal: 3,
    rounds: 8,
    setup: async (base) => {
      asOf.at = (await post(base, "/bench/history-asof/setup/asof")).at;
    },
    subject: (base) => post(base, `/bench/history-asof/asof/asof?at=${asOf.at}`),
    baseline: (base) => post(base, "/bench/history-asof/plain/asof"),
  },
  {
    name: "history AS OF, count and sum only (SQLite's work, no rows materialized) vs the plain query",
    rounds: 8,
    subject: (base) => post(base, `/bench/history-asof/asof/asof?sum=1&at=${asOf.at}`),
    baseline: (base) => post(base, "/bench/history-asof/plain/asof?sum=1"),
  },
];
