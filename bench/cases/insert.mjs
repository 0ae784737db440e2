// Foundation bench: a SqlActor method inserting one row vs a hand-written DO doing the same SQL.
import { QUICK } from "../quick.mjs";

const N = QUICK ? 50 : 200;
const post = (base, path) => fetch(`${base}${path}`, { method: "POST" }).then((r) => r.text());

export default [
  {
    name: "insert 1 row per RPC: SqlActor.run vs hand-written DO",
    goal: 1.1,
    subject: (base, round) => post(base, `/bench/insert/raw/insert-raw-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/insert/plain/insert-plain-${round % 4}?n=${N}`),
  },
  {
    name: "insert 1 row per RPC: SqlActor drizzle vs hand-written DO",
    subject: (base, round) => post(base, `/bench/insert/drizzle/insert-drizzle-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/insert/plain/insert-plain-${round % 4}?n=${N}`),
  },
];
