import type { Context } from "hono";
import { allow, callerOf } from "../../src/coordinator/access";
import type { Caller } from "../../src/coordinator/auth";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { rateLimit } from "../../src/coordinator/rate-limit";
import { actorStub } from "../../src/coordinator/stub";
import { actorName, readJson } from "../../src/coordinator/validate";
import { ActorError } from "../../src/errors";
import { orderNotFound } from "./errors";
import {
  cancelInput,
  checkoutRouteInput,
  markPaidInput,
  markRefundedInput,
  updateStatusInput,
} from "./inputs";

/**
 * `POST /checkout` and `/orders/:order/...`: each calls the Order actor named by the order id,
 * which reserves stock from the InventorySKU actors itself. Roles (DESIGN.md §4): checkout, read
 * and cancel are `user` (the customer is the token's `sub`; an admin may act for anyone);
 * payment (the provider's webhook), marking a refund-due payment refunded and other status
 * changes are `admin`.
 */
export const orderRoutes = new Hono<{ Bindings: Env }>();

orderRoutes.post("/checkout", allow("user"), rateLimit("CHECKOUT_LIMIT"), async (c) => {
  const input = await readJson(c, checkoutRouteInput);
  const caller = callerOf(c);
  const customerId =
    caller.role === "user" ? caller.userId : (input.customerId ?? c.req.query("userId") ?? undefined);
  if (!customerId) throw new ActorError("VALIDATION_FAILED", "customerId: required (no user token)");
  const result = await actorStub(c.env.ORDER, input.orderId).checkout({ ...input, customerId });
  return c.json(result, result.replayed ? 200 : 201);
});

orderRoutes.get("/orders/:order", allow("user"), async (c) => {
  const order = await knownOrder(c);
  return c.json(await order.get(ownerOf(callerOf(c))));
});

orderRoutes.post("/orders/:order/cancel", allow("user"), async (c) => {
  const { reason } = await readJson(c, cancelInput);
  const caller = callerOf(c);
  const order = await knownOrder(c);
  return c.json(await order.cancel({ reason, actor: actorOf(caller) }, ownerOf(caller)));
});

orderRoutes.post("/orders/:order/pay", allow("admin"), async (c) => {
  const input = await readJson(c, markPaidInput);
  return c.json(await (await knownOrder(c)).markPaid(input));
});

// Admin only, like `/pay`: whoever refunds with the provider says so (a customer must not mark
// their own refund made). The order answers only for its own payments.
orderRoutes.post("/orders/:order/refunded", allow("admin"), async (c) => {
  const input = await readJson(c, markRefundedInput);
  const actor = actorOf(callerOf(c), input.actor);
  return c.json(await (await knownOrder(c)).markRefunded({ ...input, actor }));
});

orderRoutes.post("/orders/:order/status", allow("admin"), async (c) => {
  const input = await readJson(c, updateStatusInput);
  const actor = actorOf(callerOf(c), input.actor);
  return c.json(await (await knownOrder(c)).updateStatus({ ...input, actor }));
});

/** The order's stub, or 404 without reaching it when no order of that id was ever written. */
async function knownOrder(c: Context<{ Bindings: Env }>) {
  const id = actorName(c.req.param("order"), "order");
  if (!(await isKnown(c.env, "orders", id))) throw orderNotFound(id);
  return actorStub(c.env.ORDER, id);
}

/** A customer sees only their own orders; an admin (or development mode) sees any. */
function ownerOf(caller: Caller): string | undefined {
  return caller.role === "user" ? caller.userId : undefined;
}

/** Who the status log names: the customer, or the admin (with the operator it names, if any). */
function actorOf(caller: Caller, named?: string): string | undefined {
  if (caller.role === "user") return caller.userId;
  if (caller.role === "admin" && !caller.dev) return named ? `admin:${named}` : "admin";
  return named;
}
