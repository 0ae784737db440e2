import { env } from "cloudflare:test";
import { ActorError, actorStub } from "dosql-actors";
import { expect, it } from "vitest";

it("applies the prebuilt migrations and its own, and keeps the prebuilt behaviour", async () => {
  const sku = actorStub(env.MY_INVENTORY, "SKU-1");
  await sku.restock({ quantity: 1, productName: "Mug" });
  expect((await sku.schemaVersion()).version).toBe("0100_watchers");
  await sku.reserve({ orderId: "o-1", quantity: 1 });
  await sku.confirm({ orderId: "o-1" });
  expect(await sku.status()).toMatchObject({ available: 0, sold: 1 });
});

it("watch: one row per user, refused while in stock, bad input typed", async () => {
  const sku = actorStub(env.MY_INVENTORY, "SKU-2");
  await sku.restock({ quantity: 1 });
  const inStock = await sku.watch({ userId: "u1" }).catch((e: unknown) => e);
  expect(ActorError.from(inStock)?.code).toBe("IN_STOCK");
  await sku.reserve({ orderId: "o-2", quantity: 1 });
  expect(await sku.watch({ userId: "u1" })).toEqual({ watchers: 1 });
  expect(await sku.watch({ userId: "u1" })).toEqual({ watchers: 1 });
  expect(await sku.watch({ userId: "u2" })).toEqual({ watchers: 2 });
  const bad = await sku.watch({ userId: "" }).catch((e: unknown) => e);
  expect(ActorError.from(bad)?.code).toBe("VALIDATION_FAILED");
  expect(await sku.watchers()).toBe(2);
});
