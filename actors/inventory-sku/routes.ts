import type { Context } from "hono";
import { allow, socketCaller } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import {
  actorName,
  integerParam,
  parseInput,
  readJson,
  requireUpgrade,
} from "../../src/coordinator/validate";
import { ActorError } from "../../src/errors";
import { withCaller } from "../../src/rpc/caller";
import { skuNotFound } from "./errors";
import {
  confirmInput,
  historyInput,
  maxTtlMinutes,
  releaseInput,
  reserveInput,
  reserveManyInput,
  restockInput,
  stateAtInput,
} from "./inputs";

/**
 * `/inventory/:sku/...`: each route validates its input here (bad input never reaches the actor)
 * and calls the InventorySKU actor named `:sku`, which validates again for its RPC callers.
 * Only `status` is public: storefronts reach stock through checkout (the Order actor calls the
 * SKUs over RPC), every other route is `admin`. A SKU never stocked answers 404 without being
 * reached (only `restock` creates one). Confirm and release through these routes act as admin:
 * the SKU records "by admin" in its log (an order's own calls carry the order's key instead).
 */
export const inventoryRoutes = new Hono<{ Bindings: Env }>();

type C = Context<{ Bindings: Env }>;

/** The stub of an existing SKU, or SKU_NOT_FOUND without reaching (and so creating) it. */
async function knownSku(c: C) {
  const sku = actorName(c.req.param("sku"), "sku");
  if (!(await isKnown(c.env, "inventory", sku))) throw skuNotFound(sku);
  return actorStub(c.env.INVENTORY_SKU, sku);
}

inventoryRoutes.post("/:sku/reserve", allow("admin"), async (c) => {
  const input = await readJson(c, reserveInput);
  checkTtl(c, input.ttlMinutes);
  return c.json(await (await knownSku(c)).reserve({ ...input, key: undefined }));
});

inventoryRoutes.post("/:sku/reserve-many", allow("admin"), async (c) => {
  const input = await readJson(c, reserveManyInput);
  for (const item of input.items) checkTtl(c, item.ttlMinutes);
  const items = input.items.map((item) => ({ ...item, key: undefined }));
  return c.json(await (await knownSku(c)).reserveMany({ items }));
});

inventoryRoutes.post("/:sku/confirm", allow("admin"), async (c) => {
  const input = await readJson(c, confirmInput);
  return c.json(await (await knownSku(c)).confirm({ orderId: input.orderId, admin: true }));
});

inventoryRoutes.post("/:sku/release", allow("admin"), async (c) => {
  const input = await readJson(c, releaseInput);
  const release = { orderId: input.orderId, reason: input.reason, admin: true };
  return c.json(await (await knownSku(c)).release(release));
});

inventoryRoutes.post("/:sku/restock", allow("admin"), async (c) => {
  const input = await readJson(c, restockInput);
  return c.json(await actorStub(c.env.INVENTORY_SKU, c.req.param("sku")).restock(input));
});

inventoryRoutes.get("/:sku/status", allow("public"), async (c) => c.json(await (await knownSku(c)).status()));

/**
 * The SKU's socket: RPC by role (status public, the rest admin) and live queries of `inventory`.
 * Open to anyone; the caller the auth module verified from `?token=` (public without one) is
 * vouched to the actor, which gates each method by role with the same rule.
 */
inventoryRoutes.get("/:sku/ws", allow("public"), async (c) => {
  requireUpgrade(c);
  const who = await socketCaller(c.req.raw, c.env);
  return (await knownSku(c)).fetch(withCaller(c.req.raw, who));
});

inventoryRoutes.get("/:sku/history", allow("admin"), async (c) => {
  const q = c.req.query();
  const input = parseInput(historyInput, {
    limit: integerParam(q.limit),
    operation: q.operation,
    beforeId: integerParam(q.beforeId),
  });
  return c.json(await (await knownSku(c)).auditLog(input));
});

inventoryRoutes.get("/:sku/state-at", allow("admin"), async (c) => {
  const { timestamp } = parseInput(stateAtInput, { timestamp: integerParam(c.req.query("timestamp")) });
  return c.json(await (await knownSku(c)).stateAt(timestamp));
});

/** The configured longest hold, checked before the actor is reached. */
function checkTtl(c: C, ttlMinutes: number | undefined): void {
  const max = maxTtlMinutes(c.env);
  if (ttlMinutes !== undefined && ttlMinutes > max)
    throw new ActorError("VALIDATION_FAILED", `ttlMinutes: must be at most ${max}`, { max });
}
