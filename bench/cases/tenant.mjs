// Tenant bench: TenantDB point reads (getTask) and writes (updateTask) against a hand-written
// Durable Object doing the same SQL, in one call; and GET /tenants/:t/tasks/:id over HTTP with JWT
// verification on, against a hand-written Worker + DO doing the same check and read.

import { SignJWT } from "jose";
import { latencyGoals } from "../goal.mjs";
import { post } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const N = QUICK ? 500 : 5000;
const SECRET = "tenant-bench-secret-0123456789abcdef"; // bench/worker.ts TENANT_BENCH_SECRET
const HTTP_REQUESTS = QUICK ? 20 : 100;
const LATENCY_REQUESTS = QUICK ? 100 : 1000;
const TENANT = "http-tenant";

// One actor per side, warmed by the runner before the first round.
const inActor = (variant, op) => (base) =>
  post(base, `/bench/tenant/${variant}/${op}/tenant-${op}-${variant}?n=${N}`);

let token;
const tokenFor = async () =>
  (token ??= await new SignJWT({ tenant: TENANT })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("bench")
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(SECRET)));

const urlOf = (base, side) => `${base}/${side === "plain" ? "plain-tenants" : "tenants"}/${TENANT}/tasks/1`;

async function sequentialReads(base, side, count) {
  const url = urlOf(base, side);
  const headers = { authorization: `Bearer ${await tokenFor()}` };
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.text();
    if (res.status !== 200) throw new Error(`${side}: HTTP ${res.status}`);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

const cases = [
  {
    name: `tenant point read (getTask) ×${N} in one call: TenantDB vs hand-written DO`,
    ops: N,
    seed: { figure: "10,000+ req/s per tenant, simple queries (USE_CASES 1)", top: 10_000 },
    goal: 1 / 0.95,
    subject: inActor("actor", "read"),
    baseline: inActor("plain", "read"),
    async extra(base) {
      const rate = async (variant) => {
        let min = Infinity;
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await inActor(variant, "read")(base, 10 + i);
          min = Math.min(min, performance.now() - t0);
        }
        return Math.round((N / min) * 1000);
      };
      return {
        "reads/s TenantDB (best of 3)": await rate("actor"),
        "reads/s hand-written DO (best of 3)": await rate("plain"),
      };
    },
  },
  {
    name: `tenant point write (updateTask) ×${N} in one call: TenantDB vs hand-written DO`,
    ops: N,
    seed: { figure: "2,000–5,000 req/s per tenant, mixed read/write (USE_CASES 1)", top: 5_000 },
    goal: 1 / 0.95,
    subject: inActor("actor", "write"),
    baseline: inActor("plain", "write"),
  },
  {
    name: `tenant GET /tenants/:t/tasks/:id with JWT, ${HTTP_REQUESTS} sequential: coordinator vs hand-written Worker`,
    ops: HTTP_REQUESTS,
    seed: { figure: "tenant routing 1–2 ms p50; DO warm request 5–15 ms p50, 30 ms p99 (USE_CASES 1)" },
    goal: 1.2,
    async setup(base) {
      await post(base, `/bench/tenant/actor/read/${TENANT}?n=1`);
      await post(base, `/bench/tenant/plain/read/${TENANT}?n=1`);
    },
    subject: (base) => sequentialReads(base, "actor", HTTP_REQUESTS),
    baseline: (base) => sequentialReads(base, "plain", HTTP_REQUESTS),
    async extra(base) {
      const lat = { actor: [], plain: [] };
      for (let k = 0; k < 10; k++)
        for (const side of k % 2 ? ["plain", "actor"] : ["actor", "plain"])
          lat[side].push(...(await sequentialReads(base, side, LATENCY_REQUESTS / 10)));
      // The goal: p50 and p99 within 1.2× of the hand-written Worker + DO.
      return latencyGoals(lat, LATENCY_REQUESTS);
    },
  },
];

const FLEET = QUICK ? 50 : 1000;
const migrate = (concurrency) => async (base) => {
  const res = await fetch(`${base}/bench/fleet/migrate?concurrency=${concurrency}`, { method: "POST" });
  const body = await res.json();
  if (!res.ok || body.errors > 0 || body.processed < FLEET)
    throw new Error(`migrate: ${JSON.stringify(body)}`);
};

cases.push({
  name: `fleet migrateAll over ${FLEET} tenants (each woken through the registry, already at the newest version): concurrency 50 vs 10`,
  async setup(base) {
    for (let from = 0; from < FLEET; from += 250) await post(base, `/bench/fleet/seed?n=250&from=${from}`);
    const end = Date.now() + 120_000;
    for (;;) {
      const { total } = await (await fetch(`${base}/bench/fleet/total`)).json();
      if (total >= FLEET) break;
      if (Date.now() > end) throw new Error(`fleet: only ${total} tenants reported`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
  subject: migrate(50),
  baseline: migrate(10),
  async extra(base) {
    const seconds = async (concurrency) => {
      const t0 = performance.now();
      await migrate(concurrency)(base);
      return `${((performance.now() - t0) / 1000).toFixed(2)} s`;
    };
    return {
      [`migrateAll ${FLEET} tenants, concurrency 10`]: await seconds(10),
      [`migrateAll ${FLEET} tenants, concurrency 50`]: await seconds(50),
    };
  },
});

// The peers a user would pick instead of TenantDB (bench/actors/tenant-peers.ts), each doing the
// same SQL its own way: the same point read and write, N in one call, one object per side.
const PEERS = [
  ["agent", "agents Agent"],
  ["party", "partyserver Server"],
  ["actors", "@cloudflare/actors Actor"],
];
const inPeer = (variant, op) => (base) =>
  post(base, `/bench/tenant-peer/${variant}/${op}/tenant-peer-${op}-${variant}?n=${N}`);
for (const [op, what] of [
  ["read", "point read (getTask)"],
  ["write", "point write (updateTask)"],
])
  for (const [variant, label] of PEERS)
    cases.push({
      // The goal: ahead of every peer on every shared scenario.
      name: `tenant ${what} ×${N} in one call: TenantDB vs ${label} (same SQL through this.sql)`,
      ops: N,
      goal: 1,
      rounds: 7,
      subject: inActor("actor", op),
      baseline: inPeer(variant, op),
    });

export default cases;
