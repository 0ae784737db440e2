// Forward (issue 14): changes/s delivered to another actor and through a local queue, against a
// hand-written outbox doing the same in the same run, and the commit-to-apply delay (p50/p99).

import { postJson } from "../http.mjs";
import { QUICK } from "../quick.mjs";

/** The rounds go to this many objects per side (round % OBJECTS), each warmed by the runner first. */
const OBJECTS = 4;

const N = QUICK ? 200 : 2000;
const perSecond = (ms) => `${Math.round((N / ms) * 1000).toLocaleString("en")} changes/s`;
const timedPost = async (base, path) => {
  const t0 = performance.now();
  await postJson(base, path);
  return performance.now() - t0;
};
const delay = async (base, variant) => {
  const d = await postJson(base, `/bench/forward-delay/${variant}/delay-${variant}?n=200`);
  return `p50 ${d.p50} ms, p99 ${d.p99} ms (n=${d.n}, maxWaitMs 5)`;
};

export default [
  {
    name: `forward to another actor: ${N} one-row transactions written and applied at the receiver, vs a hand-written outbox`,
    // The goal: framework ≥ 0.95× hand on every scenario.
    goal: 1 / 0.95,
    rounds: 8,
    objects: OBJECTS,
    subject: (base, round) => postJson(base, `/bench/forward/actor/fa-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => postJson(base, `/bench/forward/hand-actor/ha-${round % OBJECTS}?n=${N}`),
    extra: async (base) => ({
      "forward → actor throughput (one more run)": perSecond(
        await timedPost(base, `/bench/forward/actor/fa-x?n=${N}`),
      ),
      "hand outbox → actor throughput": perSecond(
        await timedPost(base, `/bench/forward/hand-actor/ha-x?n=${N}`),
      ),
      "forward → actor, commit to apply": await delay(base, "actor"),
    }),
  },
  {
    name: `forward to a local queue: ${N} one-row transactions written and applied by the consumer's actor, vs a hand-written outbox`,
    // The goal: framework ≥ 0.95× hand on every scenario.
    goal: 1 / 0.95,
    rounds: 8,
    objects: OBJECTS,
    subject: (base, round) => postJson(base, `/bench/forward/queue/fq-${round % OBJECTS}?n=${N}`),
    baseline: (base, round) => postJson(base, `/bench/forward/hand-queue/hq-${round % OBJECTS}?n=${N}`),
    extra: async (base) => ({
      "forward → queue throughput (one more run)": perSecond(
        await timedPost(base, `/bench/forward/queue/fq-x?n=${N}`),
      ),
      "hand outbox → queue throughput": perSecond(
        await timedPost(base, `/bench/forward/hand-queue/hq-x?n=${N}`),
      ),
      "forward → queue, commit to apply": await delay(base, "queue"),
    }),
  },
];
