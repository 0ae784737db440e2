// A Worker with no actor of its own: it calls the inventory-actors Worker through two service
// bindings (wrangler.jsonc). `wrangler types -c wrangler.jsonc -c actors.wrangler.jsonc` types
// them from that Worker's code: INVENTORY is Service<InventoryApi>, ACTORS its fetch handler.
import { ActorError, quietStub } from "dosql-actors";

// An ActorError's HTTP status comes from a registry in each isolate, filled when the actor's
// module is imported (INSUFFICIENT_STOCK → 409 in InventorySKU's errors). This Worker never
// imports the actor (that would bundle it here), so it declares the statuses it answers with;
// without this line INSUFFICIENT_STOCK would answer the default 400.
ActorError.defineStatus("INSUFFICIENT_STOCK", 409);

function failure(err: unknown): Response {
  const e = ActorError.from(err);
  if (!e) throw err;
  return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
}

/** The body of `POST /buy`: `{ sku, orderId, quantity }`, checked before any call. */
function buyInput(body: unknown): { sku: string; orderId: string; quantity: number } {
  const { sku, orderId, quantity } = (body ?? {}) as Record<string, unknown>;
  if (typeof sku !== "string" || typeof orderId !== "string" || !Number.isSafeInteger(quantity))
    throw new ActorError("VALIDATION_FAILED", "body: { sku: string, orderId: string, quantity: integer }");
  return { sku, orderId, quantity: quantity as number };
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    try {
      // RPC: a method call on the other Worker's entrypoint, which calls the actor (quietStub:
      // a business error comes back as the same ActorError, and neither Worker logs it).
      if (request.method === "POST" && url.pathname === "/buy") {
        const body = await request.json().catch(() => undefined);
        const { sku, orderId, quantity } = buyInput(body);
        return Response.json(await quietStub(env.INVENTORY).reserve(sku, orderId, quantity), { status: 201 });
      }
      // HTTP: a request forwarded to the other Worker's fetch handler (the host name is ignored).
      const stock = /^\/stock\/([^/]+)$/.exec(url.pathname);
      if (request.method === "GET" && stock)
        return env.ACTORS.fetch(`https://inventory-actors/skus/${stock[1]}`);
      return Response.json(
        { error: { code: "NOT_FOUND", message: "POST /buy, GET /stock/:sku" } },
        { status: 404 },
      );
    } catch (err) {
      return failure(err);
    }
  },
} satisfies ExportedHandler<Env>;
