import { Hono } from "hono";
import { actorStub } from "../../src/coordinator/stub";
import { parseInput, readJson } from "../../src/coordinator/validate";
import { ActorError } from "../../src/errors";
import { coordinatorCaller, withCaller } from "../../src/rpc/caller";
import "./errors";
import {
  confirmInput,
  historyInput,
  releaseInput,
  reserveInput,
  reserveManyInput,
  restockInput,
  stateAtInput,
} from "./inputs";

/**
 * `/inventory/:sku/...`: each route validates its input here (bad input never reaches the actor)
 * and calls the InventorySKU actor named `:sku`, which validates again for its RPC callers.
 */
export const inventoryRoutes = new Hono<{ Bindings: Env }>();

const sku = (c: { env: Env; req: { param(name: "sku"): string } }) =>
  actorStub(c.env.INVENTORY_SKU, c.req.param("sku"));

inventoryRoutes.post("/:sku/reserve", async (c) => {
  const input = await readJson(c, reserveInput);
  return c.json(await sku(c).reserve(input));
});

inventoryRoutes.post("/:sku/reserve-many", async (c) => {
  const input = await readJson(c, reserveManyInput);
  return c.json(await sku(c).reserveMany(input));
});

inventoryRoutes.post("/:sku/confirm", async (c) => {
  const input = await readJson(c, confirmInput);
  return c.json(await sku(c).confirm(input));
});

inventoryRoutes.post("/:sku/release", async (c) => {
  const input = await readJson(c, releaseInput);
  return c.json(await sku(c).release(input));
});

inventoryRoutes.post("/:sku/restock", async (c) => {
  const input = await readJson(c, restockInput);
  return c.json(await sku(c).restock(input));
});

inventoryRoutes.get("/:sku/status", async (c) => c.json(await sku(c).status()));

/** The SKU's socket: RPC by role (status public, the rest admin) and live queries of `inventory`. */
inventoryRoutes.get("/:sku/ws", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    throw new ActorError("UPGRADE_REQUIRED", "this route is a WebSocket");
  return sku(c).fetch(withCaller(c.req.raw, coordinatorCaller(c.env, c.req.raw)));
});

inventoryRoutes.get("/:sku/history", async (c) => {
  const q = c.req.query();
  const input = parseInput(historyInput, {
    limit: integerParam(q.limit),
    operation: q.operation,
    beforeId: integerParam(q.beforeId),
  });
  return c.json(await sku(c).auditLog(input));
});

inventoryRoutes.get("/:sku/state-at", async (c) => {
  const { timestamp } = parseInput(stateAtInput, { timestamp: integerParam(c.req.query("timestamp")) });
  return c.json(await sku(c).stateAt(timestamp));
});

/** A query-string integer as a number; anything else stays a string so validation names it. */
function integerParam(value: string | undefined): number | string | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : value;
}
