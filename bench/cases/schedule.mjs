// Schedules: `this.schedule.at()` + `cancel()` vs a hand-written DO keeping its own task table on
// the alarm (insert, re-arm, delete, re-arm). One request runs N pairs inside the actor.
import { QUICK } from "../quick.mjs";

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;

const N = QUICK ? 50 : 200;
const post = (base, path) => fetch(`${base}${path}`, { method: "POST" }).then((r) => r.text());

export default [
  {
    name: "schedule.at + cancel, 200 per call: SqlActor vs hand-written DO",
    // The goal: framework ≥ 0.95× hand on every scenario.
    goal: 1 / 0.95,
    objects: OBJECTS,
    subject: (base, round) => post(base, `/bench/schedule/framework/sched-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/schedule/plain/sched-plain-${round % OBJECTS}?n=${N}`),
  },
];
