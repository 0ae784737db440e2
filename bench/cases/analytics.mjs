// Analytics bench: RegionalAnalytics.ingest (validation, HMAC of the user id, bucket upsert with the
// once-per-bucket unique checks, raw insert, session upsert, in one transaction) against a
// hand-written Durable Object doing the same SQL and hashing; single events and batches of 500.
const SINGLE = 1000;
const BATCHED = 10_000;
const post = (base, path) =>
  fetch(`${base}${path}`, { method: "POST" }).then(async (r) => {
    const text = await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
    return text;
  });

const run = (variant, n, batch) => (base, round) =>
  post(base, `/bench/analytics/${variant}/analytics-${variant}-${batch}-${round % 4}?n=${n}&batch=${batch}`);

/** Events per second of one side, from its best of 3 calls. */
async function best(base, variant, n, batch) {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run(variant, n, batch)(base, 10 + i);
    min = Math.min(min, performance.now() - t0);
  }
  return Math.round((n / min) * 1000);
}

export default [
  {
    name: `analytics ingest ×${SINGLE} single events in one call: RegionalAnalytics vs hand-written DO`,
    goal: 1.1,
    subject: run("actor", SINGLE, 1),
    baseline: run("plain", SINGLE, 1),
    async extra(base) {
      return {
        "events/s RegionalAnalytics, single (best of 3)": await best(base, "actor", SINGLE, 1),
        "events/s RegionalAnalytics without history/forward/tiering, single (best of 3)": await best(
          base,
          "bare",
          SINGLE,
          1,
        ),
        "events/s hand-written DO, single (best of 3)": await best(base, "plain", SINGLE, 1),
      };
    },
  },
  {
    name: `analytics ingest ×${BATCHED} in batches of 500: RegionalAnalytics vs hand-written DO`,
    goal: 1.1,
    subject: run("actor", BATCHED, 500),
    baseline: run("plain", BATCHED, 500),
    async extra(base) {
      return {
        "events/s RegionalAnalytics, batches of 500 (best of 3)": await best(base, "actor", BATCHED, 500),
        "events/s RegionalAnalytics without history/forward/tiering, batches of 500 (best of 3)": await best(
          base,
          "bare",
          BATCHED,
          500,
        ),
        "events/s hand-written DO, batches of 500 (best of 3)": await best(base, "plain", BATCHED, 500),
      };
    },
  },
];
