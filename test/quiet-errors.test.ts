import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ActorError, actorStub, quietStub } from "../src/index";

// actorStub() calls methods through `_quietCall`: an ActorError comes back as a value (nothing for
// the runtime to log as uncaught) and is thrown again on the caller's side. That the actor logs
// nothing is checked where the log can be read: .ci/example greps the example's vitest output and
// its `wrangler dev` log.
let seq = 0;
const name = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

describe("quiet business errors over RPC", () => {
  it("the caller gets the typed error: code, message, details, status", async () => {
    const sku = actorStub(env.INVENTORY_SKU, name("quiet-sku"));
    await sku.restock({ quantity: 2, productName: "Mug" });
    const err = await rejection(sku.reserve({ orderId: "o-1", quantity: 5 }));
    expect(err).toBeInstanceOf(ActorError);
    const e = err as ActorError;
    expect(e.code).toBe("INSUFFICIENT_STOCK");
    expect(e.description).toMatch(/5 requested, 2 available/);
    expect(e.details).toEqual({ sku: expect.any(String), available: 2, requested: 5 });
    expect(e.status).toBe(409);
    // Nothing was reserved, and the same stub serves values as a plain one does.
    expect((await sku.status()).available).toBe(2);
  });

  it("answers the same values as a plain stub", async () => {
    const id = name("quiet-same");
    const quiet = await actorStub(env.INVENTORY_SKU, id).restock({ quantity: 3 });
    const plain = await env.INVENTORY_SKU.getByName(id).status();
    expect(quiet).toEqual({ ...plain });
  });

  it("validation errors of the actor's input arrive typed", async () => {
    const err = await rejection(actorStub(env.FIXTURE, name("quiet-bad")).addNote(""));
    expect(ActorError.from(err)?.code).toBe("VALIDATION_FAILED");
  });

  it("anything that is not an ActorError still rejects as it was", async () => {
    const err = await rejection(actorStub(env.FIXTURE, name("quiet-reset")).abortNow());
    expect(ActorError.from(err)).toBeUndefined();
    expect(String(err)).toMatch(/reset on purpose/);
  });

  it("property reads and pipelined calls go through the plain stub", async () => {
    // Without the history part, reading `history` itself is refused (issue 13: opt-in parts).
    const without = quietStub(env.NO_HISTORY.getByName(name("quiet-prop")));
    expect(ActorError.from(await rejection(Promise.resolve(without.history)))?.code).toBe("HISTORY_DISABLED");
    const stub = quietStub(env.HISTORY.getByName(name("quiet-prop-on")));
    const history = await stub.history;
    expect(await history.enabled).toBe(true);
    expect(ActorError.from(await rejection(history.changes({ fromLsn: -1 })))?.code).toBe(
      "VALIDATION_FAILED",
    );
    expect(String((await stub.stats()).schemaVersion)).toBeTruthy();
  });

  it("_quietCall refuses entry points, Object's members, non-methods and bad args", async () => {
    const plain = env.FIXTURE.getByName(name("quiet-refuse"));
    for (const method of [
      "fetch",
      "alarm",
      "constructor",
      "toString",
      "_quietCall",
      "database",
      "nope",
      42,
    ]) {
      const result = await plain._quietCall(method as string, []);
      expect(ActorError.from(result.error)?.code, String(method)).toBe("METHOD_NOT_ALLOWED");
    }
    const bad = await plain._quietCall("addNote", "x" as unknown as unknown[]);
    expect(ActorError.from(bad.error)?.code).toBe("VALIDATION_FAILED");
    expect(await plain.listNotes()).toEqual([]);
  });
});
