// Foundation bench: a SqlActor method inserting one row vs a hand-written DO doing the same SQL.
import { QUICK } from "../quick.mjs";

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;

const N = QUICK ? 50 : 200;
const post = (base, path) => fetch(`${base}${path}`, { method: "POST" }).then((r) => r.text());

export default [
  {
    name: "insert 1 row per RPC: SqlActor.run vs hand-written DO",
    goal: 1.1,
    objects: OBJECTS,
    subject: (base, round) => post(base, `/bench/insert/raw/insert-raw-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/insert/plain/insert-plain-${round % OBJECTS}?n=${N}`),
  },
  {
    name: "insert 1 row per RPC: SqlActor drizzle vs hand-written DO",
    objects: OBJECTS,
    subject: (base, round) => post(base, `/bench/insert/drizzle/insert-drizzle-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/insert/plain/insert-plain-${round % OBJECTS}?n=${N}`),
  },
];
