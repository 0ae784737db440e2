// Schedules: `this.schedule.at()` + `cancel()` vs a hand-written DO keeping its own task table on
// the alarm (insert, re-arm, delete, re-arm). One request runs N pairs inside the actor.
import { QUICK } from "../quick.mjs";

const N = QUICK ? 50 : 200;
const post = (base, path) => fetch(`${base}${path}`, { method: "POST" }).then((r) => r.text());

export default [
  {
    name: "schedule.at + cancel, 200 per call: SqlActor vs hand-written DO",
    subject: (base, round) => post(base, `/bench/schedule/framework/sched-${round % 4}?n=${N}`),
    baseline: (base, round) => post(base, `/bench/schedule/plain/sched-plain-${round % 4}?n=${N}`),
  },
];
