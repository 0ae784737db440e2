import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { ActorError, quietStub } from "dosql-actors";
import { expect, it } from "vitest";

// Two Workers run here: the front (the Worker under test) and inventory-actors (an auxiliary
// Worker, vitest.config.ts). Every call below crosses the service binding between them.

const front = (path: string, init?: RequestInit) => exports.default.fetch(`https://shop-front${path}`, init);
const buy = (body: unknown) =>
  front("/buy", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

it("RPC over the service binding: the other Worker's entrypoint calls the actor", async () => {
  expect(await env.INVENTORY.restock("MUG", 3)).toMatchObject({ available: 3 });
  const reserved = await env.INVENTORY.reserve("MUG", "o-1", 2);
  expect(reserved).toMatchObject({ success: true, quantity: 2, status: "PENDING" });
  expect(await env.INVENTORY.status("MUG")).toMatchObject({ available: 1, reserved: 2 });
});

it("an actor's typed error crosses both hops (actor → Worker → caller) with its code", async () => {
  const inventory = quietStub(env.INVENTORY);
  await inventory.restock("TEE", 1);
  const short = await inventory.reserve("TEE", "o-2", 5).catch((e: unknown) => e);
  expect(short).toBeInstanceOf(ActorError);
  expect(ActorError.from(short)?.code).toBe("INSUFFICIENT_STOCK");
  const bad = await inventory.status("no spaces").catch((e: unknown) => e);
  expect(ActorError.from(bad)?.code).toBe("VALIDATION_FAILED");
  expect(await inventory.status("TEE")).toMatchObject({ available: 1, reserved: 0 });
  const notAMethod = await env.INVENTORY._quietCall("fetch", []);
  expect(ActorError.from(notAMethod.error)?.code).toBe("METHOD_NOT_ALLOWED");
});

it("the front's routes: RPC for POST /buy, HTTP (fetch over the binding) for GET /stock", async () => {
  await env.INVENTORY.restock("CAP", 2);
  const bought = await buy({ sku: "CAP", orderId: "o-3", quantity: 2 });
  expect(bought.status).toBe(201);
  expect(await bought.json()).toMatchObject({ success: true, quantity: 2 });
  const stock = await front("/stock/CAP");
  expect(stock.status).toBe(200);
  expect(await stock.json()).toMatchObject({ available: 0, reserved: 2 });

  const short = await buy({ sku: "CAP", orderId: "o-4", quantity: 1 });
  expect(short.status).toBe(409);
  expect(((await short.json()) as { error: { code: string } }).error.code).toBe("INSUFFICIENT_STOCK");
  const bad = await buy({ sku: "CAP", quantity: "1" });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");
  const badSku = await front("/stock/a%20b");
  expect(badSku.status).toBe(400);
});
