// Bench Worker: each route runs `n` operations against one actor and answers when done; the
// Node side (bench/run.mjs) times the whole request, interleaving framework and baseline.
import { Hono } from "hono";
import { inventoryRoutes } from "../actors/inventory-sku/routes";
import { createCoordinator } from "../src/index";
import { BenchInventory, PlainInventory, plainInventoryHttp } from "./actors/inventory";
import { BenchNotes, PlainBenchNotes } from "./actors/notes";
import { BenchSchedules, PlainBenchSchedules } from "./actors/schedules";

export { BenchInventory, BenchNotes, BenchSchedules, PlainBenchNotes, PlainBenchSchedules, PlainInventory };

type BenchEnv = {
  BENCH_NOTES: DurableObjectNamespace<BenchNotes>;
  PLAIN_BENCH_NOTES: DurableObjectNamespace<PlainBenchNotes>;
  BENCH_SCHEDULES: DurableObjectNamespace<BenchSchedules>;
  PLAIN_BENCH_SCHEDULES: DurableObjectNamespace<PlainBenchSchedules>;
  /** BenchInventory under the binding name the coordinator's inventory routes use. */
  INVENTORY_SKU: DurableObjectNamespace<BenchInventory>;
  PLAIN_INVENTORY: DurableObjectNamespace<PlainInventory>;
};

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

// Inventory: `n` reserves inside one RPC call, InventorySKU vs a hand-written DO.
app.post("/bench/reserve/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const prefix = crypto.randomUUID();
  if (c.req.param("variant") === "plain") await c.env.PLAIN_INVENTORY.getByName(name).benchReserve(n, prefix);
  else await c.env.INVENTORY_SKU.getByName(name).benchReserve(n, prefix);
  return c.json({ n });
});

// Inventory over HTTP: the real coordinator routes (`/inventory/...`) vs a hand-written Worker (`/plain-http/...`).
const coordinator = createCoordinator<Env>([{ path: "/inventory", app: inventoryRoutes }]);

export default {
  fetch(request: Request, env: BenchEnv, ctx: ExecutionContext): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/inventory/")) return coordinator.fetch(request, env as unknown as Env, ctx);
    if (path.startsWith("/plain-http/")) return plainInventoryHttp(request, env.PLAIN_INVENTORY);
    return app.fetch(request, env, ctx);
  },
};
