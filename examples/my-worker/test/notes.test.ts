import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { ActorError, actorStub } from "dosql-actors";
import { expect, it } from "vitest";

it("adds and counts notes over RPC", async () => {
  const notes = actorStub(env.NOTES, "team-a");
  expect(await notes.add("first")).toEqual({ id: 1, body: "first" });
  expect(await notes.count()).toBe(1);
});

it("answers an empty note with its typed error over HTTP", async () => {
  const response = await exports.default.fetch("http://my-worker/?team=team-b", {
    method: "POST",
    body: " ",
  });
  expect(response.status).toBe(422);
  expect(await response.json()).toEqual({ error: { code: "NOTE_EMPTY", message: "a note needs a body" } });
});

it("serves the prebuilt InventorySKU, and its errors arrive typed", async () => {
  const sku = actorStub(env.INVENTORY_SKU, "SKU-1");
  await sku.restock({ quantity: 5, productName: "Mug" });
  const err = await sku.reserve({ orderId: "o-1", quantity: 9 }).catch((e: unknown) => e);
  expect(ActorError.from(err)?.code).toBe("INSUFFICIENT_STOCK");
  expect((await sku.status()).available).toBe(5);
});
