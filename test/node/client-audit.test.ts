import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InventorySKU } from "../../actors/inventory-sku/inventory-sku";
import { connect, RpcError } from "../../src/client/index";
import { startDev, type WranglerDev } from "./wrangler-dev.mjs";

// Adversarial checks of dosql-actors/client against a real wrangler dev: every call settles.
let dev: Awaited<ReturnType<typeof startDev>>;
let server: WranglerDev;

beforeAll(async () => {
  dev = await startDev("DOSQL_NODE_TEST", 2);
  server = dev.server;
});
afterAll(async () => dev?.stop());

/** What a promise did within `ms`: its value, its error, or "still pending". */
const within = (promise: PromiseLike<unknown>, ms = 5000) =>
  Promise.race([
    Promise.resolve(promise).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise((r) => setTimeout(() => r("still pending"), ms)),
  ]);

async function stocked(): Promise<string> {
  const name = `audit-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await fetch(`${server.url}/inventory/${name}/restock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ quantity: 10, productName: "Widget" }),
  });
  expect(res.status).toBe(200);
  return name;
}

const wsUrl = (name: string) => `${server.url.replace("http", "ws")}/inventory/${name}/ws`;

describe("dosql-actors/client audit (wrangler dev)", () => {
  it("a call larger than the socket's message limit rejects with MESSAGE_TOO_LARGE (it hung forever)", async () => {
    const sku = connect<typeof InventorySKU>(wsUrl(await stocked()), { minDelayMs: 100 });
    expect((await sku.status()).available).toBe(10);
    const big = (sku as unknown as { status(pad: string): Promise<unknown> }).status("x".repeat(70_000));
    const outcome = (await within(big)) as { error?: RpcError };
    expect(outcome).not.toBe("still pending");
    expect(outcome.error).toBeInstanceOf(RpcError);
    expect(outcome.error?.code).toBe("MESSAGE_TOO_LARGE");
    // The socket still works.
    expect((await sku.status()).available).toBe(10);
    sku.$close();
  });

  it("cancel() of a call still queued for the connection settles its promise (it hung forever)", async () => {
    const sku = connect<typeof InventorySKU>(wsUrl(await stocked()), { minDelayMs: 100 });
    const queued = sku.status(); // before the socket opens: queued
    expect(sku.$status).toBe("connecting");
    (queued as unknown as { cancel(): void }).cancel();
    const outcome = (await within(queued)) as { error?: RpcError };
    expect(outcome).not.toBe("still pending");
    expect(outcome.error).toBeInstanceOf(RpcError);
    expect(outcome.error?.code).toBe("CANCELLED");
    expect((await sku.status()).available).toBe(10);
    sku.$close();
  });

  it("a live query closed before its answer never calls its listeners and is not subscribed on connect", async () => {
    const name = await stocked();
    const sku = connect<typeof InventorySKU>(wsUrl(name), { minDelayMs: 100 });
    const heard: number[] = [];
    const closedWhileQueued = sku.$live("SELECT sku, available FROM inventory");
    closedWhileQueued.onChange((rows) => heard.push(rows.length));
    closedWhileQueued.close(); // still queued: the socket is not open yet
    const kept = sku.$live<{ available: number }>("SELECT sku, available FROM inventory");
    await kept.ready;
    const closedInFlight = sku.$live("SELECT sku, available FROM inventory");
    closedInFlight.onChange((rows) => heard.push(rows.length));
    closedInFlight.close(); // sent, not yet answered
    const res = await fetch(`${server.url}/inventory/${name}/reserve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ orderId: "a1", quantity: 1 }),
    });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (kept.rows[0]?.available !== 9 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(kept.rows[0]?.available).toBe(9);
    await sku.status();
    expect(heard).toEqual([]);
    expect(await within(closedWhileQueued.ready, 200)).toBe("still pending");
    sku.$close();
  });

  it("a live query started offline with the call queue full still becomes ready (ready rejected QUEUE_FULL)", async () => {
    const sku = connect<typeof InventorySKU>(wsUrl(await stocked()), { maxQueue: 1, minDelayMs: 100 });
    const queued = sku.status(); // before the socket opens: fills the queue
    const live = sku.$live<{ available: number }>("SELECT sku, available FROM inventory");
    const errors: string[] = [];
    live.onError((e) => errors.push(e.code));
    const outcome = (await within(live.ready)) as { value?: { available: number }[]; error?: RpcError };
    expect(outcome.error?.code).toBeUndefined();
    expect(outcome.value?.[0]?.available).toBe(10);
    expect(errors).toEqual([]);
    expect((await queued).available).toBe(10);
    sku.$close();
  });
});
