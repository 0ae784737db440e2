import { Hono } from "hono";
import { actorStub } from "../../src/coordinator/stub";
import { readJson } from "../../src/coordinator/validate";
import "./errors";
import { checkoutInput, markPaidInput, updateStatusInput } from "./inputs";

/**
 * `POST /checkout` and `/orders/:order/...`: each calls the Order actor named by the order id,
 * which reserves stock from the InventorySKU actors itself.
 */
export const orderRoutes = new Hono<{ Bindings: Env }>();

orderRoutes.post("/checkout", async (c) => {
  const input = await readJson(c, checkoutInput);
  const result = await actorStub(c.env.ORDER, input.orderId).checkout(input);
  return c.json(result, result.replayed ? 200 : 201);
});

orderRoutes.get("/orders/:order", async (c) =>
  c.json(await actorStub(c.env.ORDER, c.req.param("order")).get()),
);

orderRoutes.post("/orders/:order/pay", async (c) => {
  const input = await readJson(c, markPaidInput);
  return c.json(await actorStub(c.env.ORDER, c.req.param("order")).markPaid(input));
});

orderRoutes.post("/orders/:order/status", async (c) => {
  const input = await readJson(c, updateStatusInput);
  return c.json(await actorStub(c.env.ORDER, c.req.param("order")).updateStatus(input));
});
