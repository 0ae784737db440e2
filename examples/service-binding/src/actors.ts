// The Worker that owns the actors. Other Workers reach them through a service binding to it:
// over HTTP (the default export's fetch) or over RPC (the InventoryApi entrypoint). A Durable
// Object namespace binding only works inside the Worker that defines the class (or names it with
// `script_name`); a service binding is how another Worker, deployed on its own, calls it.
import { WorkerEntrypoint } from "cloudflare:workers";
import { ActorError, actorStub, type QuietResult } from "dosql-actors";
import type { InventorySKU, InventoryStatus, ReserveResult } from "dosql-actors/actors/inventory-sku";

export { InventorySKU } from "dosql-actors/actors/inventory-sku";

interface ActorsEnv {
  INVENTORY_SKU: DurableObjectNamespace<InventorySKU>;
}

const SKU = /^[A-Za-z0-9._-]{1,64}$/;

function sku(env: ActorsEnv, id: unknown) {
  if (typeof id !== "string" || !SKU.test(id))
    throw new ActorError("VALIDATION_FAILED", "sku: 1-64 characters of A-Z a-z 0-9 . _ -");
  return actorStub(env.INVENTORY_SKU, id);
}

const METHODS = new Set(["restock", "reserve", "status"]);

/**
 * RPC for other Workers: `env.INVENTORY.reserve(...)` in a Worker that binds this one with
 * `"entrypoint": "InventoryApi"`. The actor validates each input; its ActorErrors travel back
 * through both hops (actor → this Worker → the caller) with their code (ActorError.from).
 *
 * workerd logs an exception that ends an RPC call as uncaught on the callee's side, even when the
 * caller catches it. So, as SqlActor does for its own methods (see quietStub), this entrypoint
 * also answers `_quietCall(method, args)`, which returns an ActorError as a value: the caller
 * wraps the binding in `quietStub(env.INVENTORY)` and gets the same ActorError, and nothing is
 * logged. A plain `env.INVENTORY.reserve()` works too; its business errors are then logged here.
 */
export class InventoryApi extends WorkerEntrypoint<ActorsEnv> {
  async _quietCall(method: string, args: unknown[]): Promise<QuietResult> {
    try {
      if (!METHODS.has(method) || !Array.isArray(args))
        throw new ActorError("METHOD_NOT_ALLOWED", `${String(method)} cannot be called`);
      const fn = (this as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      return { value: await fn.apply(this, args) };
    } catch (err) {
      const e = ActorError.from(err);
      if (e) return { error: e };
      throw err;
    }
  }

  restock(id: string, quantity: number): Promise<InventoryStatus> {
    return sku(this.env, id).restock({ quantity });
  }

  reserve(id: string, orderId: string, quantity: number): Promise<ReserveResult> {
    return sku(this.env, id).reserve({ orderId, quantity });
  }

  status(id: string): Promise<InventoryStatus> {
    return sku(this.env, id).status();
  }
}

/** HTTP for other Workers (`env.ACTORS.fetch(...)`): `GET /skus/:id`, the SKU's status. */
export default {
  async fetch(request, env): Promise<Response> {
    const match = /^\/skus\/([^/]+)$/.exec(new URL(request.url).pathname);
    if (!match || request.method !== "GET")
      return Response.json({ error: { code: "NOT_FOUND", message: "GET /skus/:id" } }, { status: 404 });
    try {
      return Response.json(await sku(env, decodeURIComponent(match[1])).status());
    } catch (err) {
      const e = ActorError.from(err);
      if (!e) throw err;
      return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
    }
  },
} satisfies ExportedHandler<ActorsEnv>;
