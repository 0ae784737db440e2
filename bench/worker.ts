// Bench Worker: each route runs `n` operations against one actor and answers when done; the
// Node side (bench/run.mjs) times the whole request, interleaving framework and baseline.
import { Hono } from "hono";
import { buildingRoutes } from "../actors/building-telemetry/routes";
import { documentRoutes } from "../actors/collaborative-document/routes";
import { inventoryRoutes } from "../actors/inventory-sku/routes";
import { Order } from "../actors/order/index";
import { regionalAnalyticsRoutes } from "../actors/regional-analytics/routes";
import { tenantRoutes } from "../actors/tenant-db/routes";
import { FleetRegistry } from "../src/fleet/index";
import type { ForwardBatch } from "../src/forward/index";
import { createCoordinator } from "../src/index";
import {
  BenchGlobalAnalytics,
  BenchRegionalAnalytics,
  BenchRegionalAnalyticsBare,
  PlainAnalytics,
  plainAnalyticsHttp,
} from "./actors/analytics";
import { HandOrder } from "./actors/checkout";
import { BenchDocument, HandDocument } from "./actors/document";
import {
  BenchForwardSink,
  BenchForwardToActor,
  BenchForwardToQueue,
  HandOutbox,
  HandSink,
} from "./actors/forward";
import { HandReserve, HistoryReserve, PlainReserve } from "./actors/history";
import {
  BenchInventory,
  BenchInventoryNoHistory,
  PlainInventory,
  plainInventoryHttp,
} from "./actors/inventory";
import { BenchNotes, PlainBenchNotes } from "./actors/notes";
import {
  ActorsReserve,
  AgentReserve,
  HandImagesReserve,
  HandPeerReserve,
  IdiomHistoryReserve,
  IdiomReserve,
  PartyReserve,
} from "./actors/peers";
import { BenchSchedules, PlainBenchSchedules } from "./actors/schedules";
import { BenchSourced, PlainSourcesHot } from "./actors/sources";
import {
  alertLoop,
  BenchBuilding,
  BenchLocalBuilding,
  handBuildingHttp,
  PlainBuilding,
} from "./actors/telemetry";
import { BenchTenant, PlainTenant, plainTenantHttp } from "./actors/tenant";
import { ActorsTenant, AgentTenant, PartyTenant } from "./actors/tenant-peers";
import { BenchTiered, PlainArchiver, PlainHot } from "./actors/tiering";

export { CentralTelemetry } from "../actors/index";
export {
  ActorsReserve,
  ActorsTenant,
  AgentReserve,
  AgentTenant,
  BenchBuilding,
  BenchDocument,
  BenchForwardSink,
  BenchForwardToActor,
  BenchForwardToQueue,
  BenchGlobalAnalytics,
  BenchInventory,
  BenchInventoryNoHistory,
  BenchLocalBuilding,
  BenchNotes,
  BenchRegionalAnalytics,
  BenchRegionalAnalyticsBare,
  BenchSchedules,
  BenchSourced,
  BenchTenant,
  BenchTiered,
  FleetRegistry,
  HandDocument,
  HandImagesReserve,
  HandOrder,
  HandOutbox,
  HandPeerReserve,
  HandReserve,
  HandSink,
  HistoryReserve,
  IdiomHistoryReserve,
  IdiomReserve,
  Order,
  PartyReserve,
  PartyTenant,
  PlainAnalytics,
  PlainArchiver,
  PlainBenchNotes,
  PlainBenchSchedules,
  PlainBuilding,
  PlainHot,
  PlainInventory,
  PlainReserve,
  PlainSourcesHot,
  PlainTenant,
};

type BenchEnv = {
  ARCHIVE: R2Bucket;
  BENCH_NOTES: DurableObjectNamespace<BenchNotes>;
  PLAIN_BENCH_NOTES: DurableObjectNamespace<PlainBenchNotes>;
  BENCH_SCHEDULES: DurableObjectNamespace<BenchSchedules>;
  PLAIN_BENCH_SCHEDULES: DurableObjectNamespace<PlainBenchSchedules>;
  BENCH_TIERED: DurableObjectNamespace<BenchTiered>;
  BENCH_SOURCED: DurableObjectNamespace<BenchSourced>;
  PLAIN_SOURCES_HOT: DurableObjectNamespace<PlainSourcesHot>;
  PLAIN_ARCHIVER: DurableObjectNamespace<PlainArchiver>;
  PLAIN_HOT: DurableObjectNamespace<PlainHot>;
  HISTORY_RESERVE: DurableObjectNamespace<HistoryReserve>;
  PLAIN_RESERVE: DurableObjectNamespace<PlainReserve>;
  HAND_RESERVE: DurableObjectNamespace<HandReserve>;
  /** BenchInventory under the binding name the coordinator's inventory routes use. */
  INVENTORY_SKU: DurableObjectNamespace<BenchInventory>;
  INVENTORY_SKU_NO_HISTORY: DurableObjectNamespace<BenchInventoryNoHistory>;
  PLAIN_INVENTORY: DurableObjectNamespace<PlainInventory>;
  BENCH_FORWARD_TO_ACTOR: DurableObjectNamespace<BenchForwardToActor>;
  BENCH_FORWARD_TO_QUEUE: DurableObjectNamespace<BenchForwardToQueue>;
  BENCH_FORWARD_SINK: DurableObjectNamespace<BenchForwardSink>;
  HAND_OUTBOX: DurableObjectNamespace<HandOutbox>;
  HAND_SINK: DurableObjectNamespace<HandSink>;
  BENCH_FORWARD_QUEUE: Queue;
  IDIOM_RESERVE: DurableObjectNamespace<IdiomReserve>;
  IDIOM_HISTORY_RESERVE: DurableObjectNamespace<IdiomHistoryReserve>;
  HAND_PEER_RESERVE: DurableObjectNamespace<HandPeerReserve>;
  HAND_IMAGES_RESERVE: DurableObjectNamespace<HandImagesReserve>;
  PARTY_RESERVE: DurableObjectNamespace<PartyReserve>;
  AGENT_RESERVE: DurableObjectNamespace<AgentReserve>;
  /** `@cloudflare/actors` finds its binding by the class's name: ActorsReserve, ActorsTenant. */
  ActorsReserve: DurableObjectNamespace<ActorsReserve>;
  ActorsTenant: DurableObjectNamespace<ActorsTenant>;
  AGENT_TENANT: DurableObjectNamespace<AgentTenant>;
  PARTY_TENANT: DurableObjectNamespace<PartyTenant>;
  REGIONAL_ANALYTICS: DurableObjectNamespace<BenchRegionalAnalytics>;
  GLOBAL_ANALYTICS: DurableObjectNamespace<BenchGlobalAnalytics>;
  PLAIN_ANALYTICS: DurableObjectNamespace<PlainAnalytics>;
  REGIONAL_ANALYTICS_BARE: DurableObjectNamespace<BenchRegionalAnalyticsBare>;
  /** BenchTenant under the binding name the coordinator's tenant routes use. */
  TENANT_DB: DurableObjectNamespace<BenchTenant>;
  PLAIN_TENANT: DurableObjectNamespace<PlainTenant>;
  /** The fleet registries: BenchTenant (TenantDB's config) reports to "tenants". */
  FLEET: DurableObjectNamespace<FleetRegistry>;
  /** BenchBuilding under the binding name the coordinator's building routes use. */
  BUILDING_TELEMETRY: DurableObjectNamespace<BenchBuilding>;
  LOCAL_BUILDING: DurableObjectNamespace<BenchLocalBuilding>;
  PLAIN_BUILDING: DurableObjectNamespace<PlainBuilding>;
  /** BenchDocument (CollaborativeDocument) under the binding name the document routes use. */
  COLLABORATIVE_DOCUMENT: DurableObjectNamespace<BenchDocument>;
  HAND_DOCUMENT: DurableObjectNamespace<HandDocument>;
  /** The real Order actor (its lines reserve from INVENTORY_SKU) and the hand-written checkout. */
  ORDER: DurableObjectNamespace<Order>;
  HAND_ORDER: DurableObjectNamespace<HandOrder>;
};

/** The secret of the tenant bench's tokens (bench/cases/tenant.mjs signs with the same). */
const TENANT_BENCH_SECRET = "tenant-bench-secret-0123456789abcdef";
const tenantSecret = new TextEncoder().encode(TENANT_BENCH_SECRET);

const count = (value: string | undefined) => Math.min(Math.max(Number(value) || 100, 1), 100_000);

export const app = new Hono<{ Bindings: BenchEnv }>();

app.get("/health", (c) => c.json({ ok: true }));

// Foundation: one-row insert per RPC call, `n` calls per request.
app.post("/bench/insert/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  if (variant === "plain") {
    const stub = c.env.PLAIN_BENCH_NOTES.getByName(name);
    for (let i = 0; i < n; i++) await stub.insertRaw(`note ${i}`);
  } else {
    const stub = c.env.BENCH_NOTES.getByName(name);
    if (variant === "drizzle") for (let i = 0; i < n; i++) await stub.insertDrizzle(`note ${i}`);
    else for (let i = 0; i < n; i++) await stub.insertRaw(`note ${i}`);
  }
  return c.json({ n });
});

// Schedules: `n` schedule-then-cancel pairs inside one actor call.
app.post("/bench/schedule/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const done =
    c.req.param("variant") === "plain"
      ? await c.env.PLAIN_BENCH_SCHEDULES.getByName(name).scheduleAndCancel(n)
      : await c.env.BENCH_SCHEDULES.getByName(name).scheduleAndCancel(n);
  return c.json({ n, done });
});

// Tiering: seed an actor, archive everything older than `cutoff`, or run a GROUP BY cold (R2) or hot.
const tieringStub = (env: BenchEnv, side: string, name: string) =>
  side === "framework"
    ? env.BENCH_TIERED.getByName(name)
    : side === "hot"
      ? env.PLAIN_HOT.getByName(name)
      : env.PLAIN_ARCHIVER.getByName(name);

app.post("/bench/tiering/seed/:side/:name", async (c) => {
  const n = Math.min(Math.max(Number(c.req.query("n")) || 1000, 1), 2_000_000);
  const days = Math.min(Math.max(Number(c.req.query("days")) || 1, 1), 366);
  const stub = tieringStub(c.env, c.req.param("side"), c.req.param("name")) as DurableObjectStub<PlainHot>;
  return c.json({ rows: await stub.seed(n, days) });
});

app.post("/bench/tiering/archive/:side/:name", async (c) => {
  const cutoff = Number(c.req.query("cutoff")) || Date.UTC(2100, 0, 1);
  const stub = tieringStub(
    c.env,
    c.req.param("side"),
    c.req.param("name"),
  ) as DurableObjectStub<PlainArchiver>;
  return c.json(await stub.archiveAll(cutoff));
});

// The bench generates the 1,000,000-row archive itself (Parquet written in Node) and uploads it here.
app.put("/bench/tiering/upload", async (c) => {
  const key = c.req.query("key") ?? "";
  if (!/^bench-cold\/[\w./-]+\.parquet$/.test(key)) return c.json({ error: "bad key" }, 400);
  const object = await c.env.ARCHIVE.put(key, await c.req.arrayBuffer());
  return c.json({ key, size: object?.size });
});

app.post("/bench/tiering/group-by/:side/:name", async (c) => {
  const side = c.req.param("side");
  const name = c.req.param("name");
  const source = side === "hot" ? "readings" : `'r2://ARCHIVE/bench-cold/${name}/*.parquet'`;
  const sql = `SELECT sensor, count(*) AS n, sum(value) AS s, avg(value) AS a, max(ts) AS t FROM ${source} GROUP BY sensor ORDER BY sensor`;
  const rows = (
    side === "hot"
      ? await c.env.PLAIN_HOT.getByName(name).query(sql)
      : await c.env.BENCH_TIERED.getByName(name).cold(sql)
  ) as unknown[];
  return c.json({ groups: rows.length, rows });
});

// Sources: files the bench writes in Node are uploaded here (streamed to R2), then read back with
// `FROM 'r2://ARCHIVE/bench-sources/…'` (framework) or the same SQL over the same rows in a table.
app.put("/bench/sources/upload", async (c) => {
  const key = c.req.query("key") ?? "";
  const length = Number(c.req.header("content-length"));
  if (!/^bench-sources\/[\w.-]+$/.test(key) || !(length > 0) || !c.req.raw.body)
    return c.json({ error: "bad upload" }, 400);
  const fixed = new FixedLengthStream(length);
  const [object] = await Promise.all([
    c.env.ARCHIVE.put(key, fixed.readable),
    c.req.raw.body.pipeTo(fixed.writable),
  ]);
  return c.json({ key, size: object?.size });
});
app.post("/bench/sources/seed/:name", async (c) => {
  const n = Math.min(Math.max(Number(c.req.query("n")) || 1000, 1), 5_000_000);
  return c.json({ rows: await c.env.PLAIN_SOURCES_HOT.getByName(c.req.param("name")).seed(n) });
});
app.post("/bench/sources/scan/:side/:file", async (c) => {
  const file = c.req.param("file");
  if (!/^[\w.-]+$/.test(file)) return c.json({ error: "bad file" }, 400);
  const where = c.req.query("where") === "selective" ? "WHERE id <= 1000 AND qty >= 0" : "";
  const from = c.req.param("side") === "hot" ? "items" : `'r2://ARCHIVE/bench-sources/${file}'`;
  const sql = `SELECT category, count(*) AS n, sum(price) AS s, max(day) AS d FROM ${from} ${where} GROUP BY category ORDER BY category`;
  const rows =
    c.req.param("side") === "hot"
      ? await c.env.PLAIN_SOURCES_HOT.getByName(file).query(sql)
      : await c.env.BENCH_SOURCED.getByName(`scan-${file}`).scan(sql);
  return c.json({ rows });
});

// History: `n` reserve transactions inside one call, with history on, off, and hand-written.
app.post("/bench/history-write/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  const ns =
    variant === "on" ? c.env.HISTORY_RESERVE : variant === "off" ? c.env.PLAIN_RESERVE : c.env.HAND_RESERVE;
  return c.json({ n: await ns.getByName(name).reserveMany(n) });
});

// History: read a 100,000-row table as of a time after which 10% of its rows changed, or as it is now.
app.post("/bench/history-asof/setup/:name", async (c) => {
  const at = await c.env.HISTORY_RESERVE.getByName(c.req.param("name")).seedItems(100_000, 10_000);
  return c.json({ at });
});
app.post("/bench/history-asof/:variant/:name", async (c) => {
  const stub = c.env.HISTORY_RESERVE.getByName(c.req.param("name"));
  const at = c.req.query("at") ? Number(c.req.query("at")) : undefined;
  const rows = c.req.query("sum") ? await stub.sumItems(at) : await stub.scanItems(at);
  return c.json({ rows });
});

// Inventory: `n` reserves inside one RPC call, InventorySKU (history on / off) vs a hand-written DO.
app.post("/bench/reserve/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const prefix = crypto.randomUUID();
  const variant = c.req.param("variant");
  if (variant === "plain") await c.env.PLAIN_INVENTORY.getByName(name).benchReserve(n, prefix);
  else if (variant === "history-off")
    await c.env.INVENTORY_SKU_NO_HISTORY.getByName(name).benchReserve(n, prefix);
  else await c.env.INVENTORY_SKU.getByName(name).benchReserve(n, prefix);
  return c.json({ n });
});

// Checkout: `n` sequential checkouts of the same cart of `skus` SKUs (restocked by /setup), each a
// fresh order: the Order actor (reserving from InventorySKU) vs a hand-written order DO.
const cart = (name: string, skus: number) =>
  Array.from({ length: Math.min(Math.max(skus, 1), 20) }, (_, i) => ({
    sku: `${name}-sku-${i}`,
    quantity: 1,
    unitPrice: 100,
  }));
app.post("/bench/checkout/setup/:name", async (c) => {
  const items = cart(c.req.param("name"), Number(c.req.query("skus")) || 5);
  const quantity = Math.min(Math.max(Number(c.req.query("stock")) || 1000, 1), 100_000_000);
  for (const { sku } of items) {
    await c.env.INVENTORY_SKU.getByName(sku).restock({ quantity });
    await c.env.PLAIN_INVENTORY.getByName(sku).restock(quantity);
  }
  return c.json({ skus: items.length });
});
app.post("/bench/checkout/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const items = cart(c.req.param("name"), Number(c.req.query("skus")) || 5);
  const run = crypto.randomUUID();
  for (let i = 0; i < n; i++) {
    const orderId = `order-${run}-${i}`;
    if (c.req.param("variant") === "plain")
      await c.env.HAND_ORDER.getByName(orderId).checkout(orderId, "bench", items);
    else {
      const { order } = await c.env.ORDER.getByName(orderId).checkout({
        orderId,
        customerId: "bench",
        items,
      });
      if (order.status !== "RESERVED") throw new Error(`checkout: ${order.status}`);
    }
  }
  return c.json({ n });
});

// Analytics ingest: `n` events in one call, in batches of `batch` (1: one ingest per event).
app.post("/bench/analytics/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const batch = Math.min(Math.max(Number(c.req.query("batch")) || 1, 1), 1000);
  const name = c.req.param("name");
  const prefix = crypto.randomUUID();
  const variant = c.req.param("variant");
  if (variant === "plain" || variant === "plain-lax")
    await c.env.PLAIN_ANALYTICS.getByName(name).benchIngest(n, batch, prefix, variant === "plain-lax");
  else if (variant === "bare")
    await c.env.REGIONAL_ANALYTICS_BARE.getByName(name).benchIngest(n, batch, prefix);
  else await c.env.REGIONAL_ANALYTICS.getByName(name).benchIngest(n, batch, prefix);
  return c.json({ n });
});

// Tenant point reads and writes, `n` in one call: TenantDB vs a hand-written DO with the same SQL.
app.post("/bench/tenant/:variant/:op/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const write = c.req.param("op") === "write";
  if (c.req.param("variant") === "plain") {
    const side = c.env.PLAIN_TENANT.getByName(name);
    const id = await side.benchSeed();
    return c.json({ n, done: write ? await side.benchWrites(n, id) : await side.benchReads(n, id) });
  }
  const side = c.env.TENANT_DB.getByName(name);
  const id = await side.benchSeed();
  return c.json({ n, done: write ? await side.benchWrites(n, id) : await side.benchReads(n, id) });
});

// Fleet: seed tenants `from`..`from + n - 1` (each reports itself to the registry), count them,
// and run migrateAll over every registered tenant, batch after batch, at a given concurrency.
app.post("/bench/fleet/seed", async (c) => {
  const n = count(c.req.query("n"));
  const from = Number(c.req.query("from")) || 0;
  const names = Array.from({ length: n }, (_, i) => `fleet-bench-${from + i}`);
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(names.slice(i, i + 50).map((name) => c.env.TENANT_DB.getByName(name).benchSeed()));
  return c.json({ n });
});
app.get("/bench/fleet/total", async (c) =>
  c.json({ total: (await c.env.FLEET.getByName("tenants").list({ limit: 1 })).total }),
);
app.post("/bench/fleet/migrate", async (c) => {
  const concurrency = Math.min(Math.max(Number(c.req.query("concurrency")) || 10, 1), 50);
  const registry = c.env.FLEET.getByName("tenants");
  let cursor: string | null = null;
  let processed = 0;
  let errors = 0;
  do {
    const step: { processed: number; errors: unknown[]; cursor: string | null } = await registry.migrateAll({
      cursor,
      limit: 500,
      concurrency,
    });
    processed += step.processed;
    errors += step.errors.length;
    cursor = step.cursor;
  } while (cursor !== null);
  return c.json({ processed, errors });
});

// Forward: `n` events written one transaction each, answered once the receiving actor holds them
// all (through a forward to an actor or a queue, or a hand-written outbox doing the same).
const forwardSides = (env: BenchEnv, variant: string, name: string) => {
  const queue = variant.endsWith("queue");
  const sinkName = `${name}-${queue ? "q" : "sink"}`;
  if (variant.startsWith("hand")) {
    const outbox = env.HAND_OUTBOX.getByName(name);
    return {
      write: (n: number) => outbox.writeMany(n, queue ? "queue" : "actor"),
      count: () => env.HAND_SINK.getByName(sinkName).count(),
    };
  }
  const source = queue
    ? env.BENCH_FORWARD_TO_QUEUE.getByName(name)
    : env.BENCH_FORWARD_TO_ACTOR.getByName(name);
  const sink = env.BENCH_FORWARD_SINK.getByName(sinkName);
  return {
    write: (n: number) => source.writeMany(n),
    count: () => sink.count(),
    delays: () => sink.delays(),
  };
};
const untilCount = async (count: () => Promise<number>, want: number) => {
  const end = Date.now() + 120_000;
  while ((await count()) < want) {
    if (Date.now() > end) throw new Error("forward bench: delivery timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
};

app.post("/bench/forward/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const side = forwardSides(c.env, c.req.param("variant"), c.req.param("name"));
  const before = await side.count();
  await side.write(n);
  await untilCount(side.count, before + n);
  return c.json({ n });
});

// Commit-to-apply delay: one event per request, `n` times, each awaited at the sink; then p50/p99.
app.post("/bench/forward-delay/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const side = forwardSides(c.env, c.req.param("variant"), c.req.param("name"));
  await side.delays?.();
  for (let i = 0; i < n; i++) {
    const before = await side.count();
    await side.write(1);
    await untilCount(side.count, before + 1);
  }
  return c.json(await side.delays?.());
});

// The reserve workload of issue 13, `n` per call: SqlActor (history off) vs hand-written vs partyserver.
const peer = (env: BenchEnv, variant: string) =>
  (variant === "idiom"
    ? env.IDIOM_RESERVE
    : variant === "idiom-history"
      ? env.IDIOM_HISTORY_RESERVE
      : variant === "party"
        ? env.PARTY_RESERVE
        : variant === "agent"
          ? env.AGENT_RESERVE
          : variant === "hand-images"
            ? env.HAND_IMAGES_RESERVE
            : env.HAND_PEER_RESERVE) as DurableObjectNamespace<HandPeerReserve>;
// `@cloudflare/actors` is reached its own way: `ActorsReserve.get(name)` finds the binding named as the class.
const peerStub = (env: BenchEnv, variant: string, name: string) =>
  variant === "actors"
    ? (ActorsReserve.get(name) as unknown as DurableObjectStub<HandPeerReserve>)
    : peer(env, variant).getByName(name);
app.post("/bench/peer/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  return c.json({ n: await peerStub(c.env, c.req.param("variant"), c.req.param("name")).reserveMany(n) });
});

// Cold start: `n` fresh objects, each constructed (schema, migrations) and answering one reserve.
app.post("/bench/cold/:variant", async (c) => {
  const n = count(c.req.query("n"));
  const variant = c.req.param("variant");
  const run = crypto.randomUUID();
  for (let i = 0; i < n; i++) await peerStub(c.env, variant, `cold-${run}-${i}`).reserveMany(1);
  return c.json({ n });
});

// The tenant point read and write of /bench/tenant in the peers (bench/actors/tenant-peers.ts).
app.post("/bench/tenant-peer/:variant/:op/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  const side = (variant === "actors"
    ? ActorsTenant.get(name)
    : (variant === "agent" ? c.env.AGENT_TENANT : c.env.PARTY_TENANT).getByName(
        name,
      )) as unknown as DurableObjectStub<PartyTenant>;
  const id = await side.benchSeed();
  const write = c.req.param("op") === "write";
  return c.json({ n, done: write ? await side.benchWrites(n, id) : await side.benchReads(n, id) });
});

// Wake (bench/cases/wake.mjs): objects `<prefix>-0`..`<prefix>-<n-1>` of a side. `born` tells
// when each one's instance was constructed (a woken object is a new instance); `evict` evicts each
// from memory (`ctx.abort`: the storage stays); `call` makes each answer one reserve, one after
// another (after an eviction, that call wakes it). The hibernation case wakes them over sockets.
type Wakeable = {
  benchBornAt(): number | Promise<number>;
  benchEvict(): void;
  call(): Promise<unknown>;
};
const wakeable = (env: BenchEnv, variant: string, name: string): Wakeable => {
  if (variant === "inventory" || variant === "plain-inventory") {
    const ns = (variant === "inventory" ? env.INVENTORY_SKU : env.PLAIN_INVENTORY) as DurableObjectNamespace;
    const stub = ns.getByName(name) as unknown as DurableObjectStub<PlainInventory>;
    return {
      benchBornAt: () => stub.benchBornAt(),
      benchEvict: () => stub.benchEvict(),
      call: () => stub.benchReserve(1, crypto.randomUUID()),
    };
  }
  const stub = peer(env, variant).getByName(name);
  return {
    benchBornAt: () => stub.benchBornAt(),
    benchEvict: () => stub.benchEvict(),
    call: () => stub.reserveMany(1),
  };
};
app.post("/bench/wake/:variant/:step", async (c) => {
  const n = count(c.req.query("n"));
  const prefix = c.req.query("prefix") ?? "";
  if (!/^[\w.-]{1,100}$/.test(prefix)) return c.json({ error: "bad prefix" }, 400);
  const variant = c.req.param("variant");
  const side = (i: number) => wakeable(c.env, variant, `${prefix}-${i}`);
  const step = c.req.param("step");
  if (step === "born") {
    const bornAt: number[] = [];
    for (let i = 0; i < n; i++) bornAt.push(await side(i).benchBornAt());
    return c.json({ bornAt });
  }
  if (step === "evict") {
    let evicted = 0;
    for (let i = 0; i < n; i++)
      try {
        await side(i).benchEvict();
      } catch {
        // ctx.abort() fails the call that made it: the object is gone, as asked.
        evicted++;
      }
    return c.json({ evicted });
  }
  if (step !== "call") return c.json({ error: "bad step" }, 400);
  for (let i = 0; i < n; i++) await side(i).call();
  return c.json({ n });
});

// Telemetry: `n` readings ingested inside one call, in batches of `size` (1: single ingests), by
// BuildingTelemetry or a hand-written DO doing the same SQL.
app.post("/bench/telemetry/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const size = Math.min(Math.max(Number(c.req.query("size")) || 500, 1), 5000);
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  if (variant === "plain") {
    const plain = c.env.PLAIN_BUILDING.getByName(name);
    return c.json({ n: size === 1 ? await plain.benchSingles(n) : await plain.benchBatches(n, size) });
  }
  // variant: "actor" (after a first rollup), "actor-cold" (an empty WAL), "local" (no outbox).
  const actor = (variant === "local" ? c.env.LOCAL_BUILDING : c.env.BUILDING_TELEMETRY).getByName(
    name,
  ) as unknown as {
    benchSingles(n: number, warm: boolean): Promise<number>;
    benchBatches(n: number, size: number, warm: boolean): Promise<number>;
  };
  const warm = variant !== "actor-cold";
  return c.json({
    n: size === 1 ? await actor.benchSingles(n, warm) : await actor.benchBatches(n, size, warm),
  });
});

// Telemetry alerts inside the Worker: `k` RPC ingests of a breach, each until its frame reached a
// socket the Worker holds on the side's alerts socket (bench/actors/telemetry.ts: alertLoop).
app.post("/bench/telemetry-alert/:variant/:name", async (c) => {
  const k = Math.min(Math.max(Number(c.req.query("k")) || 20, 1), 1000);
  const name = c.req.param("name");
  const upgrade = (url: string) => new Request(url, { headers: { Upgrade: "websocket" } });
  if (c.req.param("variant") === "hand") {
    const hand = c.env.PLAIN_BUILDING.getByName(name);
    return c.json(
      await alertLoop(
        { socket: () => hand.fetch(upgrade("http://hand/alerts/ws")), ingest: (r) => hand.ingestOne(r) },
        k,
      ),
    );
  }
  const actor = c.env.BUILDING_TELEMETRY.getByName(name);
  return c.json(
    await alertLoop(
      {
        socket: () => actor.fetch(upgrade(`http://bench/buildings/${name}/alerts/ws`)),
        ingest: (r) => actor.ingest(r),
      },
      k,
    ),
  );
});

// Inventory over HTTP: the real coordinator routes (`/inventory/...`) vs a hand-written Worker (`/plain-http/...`).
// Documents: the real coordinator routes (`/documents/:doc/ws`) vs a hand-written DO (`/hand-documents/:doc/ws`).
const coordinator = createCoordinator<Env>([
  { path: "/inventory", app: inventoryRoutes },
  { path: "/documents", app: documentRoutes },
  { path: "/", app: regionalAnalyticsRoutes },
  { path: "/", app: buildingRoutes },
]);
// Tenants over HTTP with JWT verification on (the bench's own secret), vs a hand-written Worker doing the same check.
const tenantCoordinator = createCoordinator<Env>([{ path: "/tenants", app: tenantRoutes }]);

export default {
  /** The forward bench's queue consumer: a forward's batches to its sink, the hand outbox's to its own. */
  async queue(batch: MessageBatch<{ source: string; forward?: string }>, env: BenchEnv): Promise<void> {
    for (const message of batch.messages) {
      const body = message.body;
      try {
        if (body.forward)
          await env.BENCH_FORWARD_SINK.getByName(`${body.source}-q`).receive(body as ForwardBatch);
        else await env.HAND_SINK.getByName(`${body.source}-q`).receive(body as never);
        message.ack();
      } catch {
        message.retry({ delaySeconds: 0 });
      }
    }
  },
  fetch(request: Request, env: BenchEnv, ctx: ExecutionContext): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    // The bare round trip: Node's fetch to this Worker and back, nothing else.
    if (path === "/bench/noop") return new Response("{}");
    if (path.startsWith("/hand-buildings/")) return handBuildingHttp(request, env.PLAIN_BUILDING);
    if (["/inventory/", "/buildings/", "/documents/", "/analytics/"].some((p) => path.startsWith(p)))
      return coordinator.fetch(request, env as unknown as Env, ctx);
    const hand = /^\/hand-documents\/([A-Za-z0-9._-]{1,128})\/ws$/.exec(path);
    if (hand) return env.HAND_DOCUMENT.getByName(hand[1]).fetch(request);
    // The wake bench's hand-written socket: PlainInventory's hibernatable WebSocket.
    const handSku = /^\/hand-inventory\/([A-Za-z0-9._-]{1,128})\/ws$/.exec(path);
    if (handSku) return env.PLAIN_INVENTORY.getByName(handSku[1]).fetch(request);
    if (path.startsWith("/plain-http/analytics/")) return plainAnalyticsHttp(request, env.PLAIN_ANALYTICS);
    if (path.startsWith("/plain-http/")) return plainInventoryHttp(request, env.PLAIN_INVENTORY);
    if (path.startsWith("/plain-tenants/")) return plainTenantHttp(request, env.PLAIN_TENANT, tenantSecret);
    if (path.startsWith("/tenants/"))
      return tenantCoordinator.fetch(request, { ...env, AUTH_JWT_SECRET: TENANT_BENCH_SECRET }, ctx);
    return app.fetch(request, env, ctx);
  },
};
