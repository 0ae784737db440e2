import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InventorySKU, InventoryStatus, ReserveResult } from "../../actors/inventory-sku/inventory-sku";
import { type ActorClient, connect, RpcError } from "../../src/client/index";
import { gzipSize, startDev, type WranglerDev } from "./wrangler-dev.mjs";

let dev: Awaited<ReturnType<typeof startDev>>;
let server: WranglerDev;

beforeAll(async () => {
  dev = await startDev("DOSQL_NODE_TEST", 0);
  server = dev.server;
});
afterAll(async () => dev?.stop());

type Figures = { sku: string; available: number; reserved: number; sold: number };

const until = async (check: () => boolean, what: string, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("dosql-actors/client in Node 22 against wrangler dev", () => {
  it("uses Node's global WebSocket and bundles to at most 10 KiB gzip", async () => {
    expect(typeof globalThis.WebSocket).toBe("function");
    const out = await build({
      entryPoints: ["src/client/index.ts"],
      bundle: true,
      minify: true,
      format: "esm",
      write: false,
    });
    const gzip = gzipSize(out.outputFiles[0].contents);
    console.log(`client bundle: ${out.outputFiles[0].contents.length} B minified, ${gzip} B gzip`);
    expect(gzip).toBeLessThanOrEqual(10 * 1024);
  });

  it("calls, live queries, a server restart mid-session: queued calls sent, live rows resumed by LSN", async () => {
    const name = `node-${Date.now()}`;
    const url = `${server.url.replace("http", "ws")}/inventory/${name}/ws`;
    const sku = connect<typeof InventorySKU>(url, { minDelayMs: 100, maxDelayMs: 1000 });
    const bounded = connect<typeof InventorySKU>(url, { maxQueue: 2, minDelayMs: 100, maxDelayMs: 1000 });

    // The SKU exists once stocked (an unknown SKU's socket answers 404 and creates nothing), so
    // stock it over HTTP first, then typed calls (development mode: every method is open).
    const stocked = await fetch(`${server.url}/inventory/${name}/restock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ quantity: 10, productName: "Widget" }),
    });
    expect(stocked.status).toBe(200);
    const restocked = await sku.status();
    expect(restocked.available).toBe(10);
    const live = sku.$live<Figures>("SELECT sku, available, reserved, sold FROM inventory");
    const lsns: number[] = [];
    live.onChange(() => lsns.push(live.lsn));
    expect((await live.ready)[0]).toMatchObject({ sku: name, available: 10, reserved: 0 });
    // A live query the server refuses (a table no live grant covers): `ready` rejects with the
    // server's error (it used to stay pending forever), and onError hears it too.
    const refusedLive = sku.$live("SELECT * FROM reservations");
    const heard: string[] = [];
    refusedLive.onError((e) => heard.push(e.code));
    const outcome = await Promise.race([
      refusedLive.ready.then(
        () => "resolved",
        (e: unknown) => e,
      ),
      new Promise((r) => setTimeout(() => r("still pending"), 5000)),
    ]);
    expect(outcome).toBeInstanceOf(RpcError);
    expect(heard).toEqual([(outcome as RpcError).code]);

    // Concurrent calls, each answered to its own caller.
    const [r1, r2, status] = await Promise.all([
      sku.reserve({ orderId: "o1", quantity: 2 }),
      sku.reserve({ orderId: "o2", quantity: 3 }),
      sku.status(),
    ]);
    expect([r1.reservationId, r1.quantity, r2.reservationId, r2.quantity]).toEqual(["o1", 2, "o2", 3]);
    expect(status.sku).toBe(name);
    await until(() => live.rows[0]?.available === 5, "the live push of the reservations");

    // Errors arrive typed.
    const conflict = await sku.reserve({ orderId: "o1", quantity: 5 }).catch((e: RpcError) => e);
    expect(conflict).toBeInstanceOf(RpcError);
    expect((conflict as RpcError).code).toBe("RESERVATION_EXISTS");
    const invalid = await sku.reserve({ orderId: "o9", quantity: -1 }).catch((e: RpcError) => e);
    expect((invalid as RpcError).code).toBe("VALIDATION_FAILED");
    const refused = await (sku as unknown as { destroy(): Promise<void> })
      .destroy()
      .catch((e: RpcError) => e);
    expect((refused as RpcError).code).toBe("METHOD_NOT_ALLOWED");
    await bounded.status();

    // Server restart mid-session.
    await server.stop();
    await until(
      () => sku.$status === "connecting" && bounded.$status === "connecting",
      "the clients to notice",
    );
    const queuedReserve = sku.reserve({ orderId: "o3", quantity: 1 });
    const queuedStatus = sku.status();
    const b1 = bounded.status();
    const b2 = bounded.status();
    const full = await bounded.status().catch((e: RpcError) => e);
    expect((full as RpcError).code).toBe("QUEUE_FULL");
    const lsnBefore = live.lsn;
    await server.start();

    // Calls queued while offline are sent on reconnect.
    expect((await queuedReserve).reservationId).toBe("o3");
    expect((await queuedStatus).sku).toBe(name);
    expect((await b1).sku).toBe(name);
    expect((await b2).sku).toBe(name);
    // A write by someone else (HTTP through the coordinator) reaches the live query too.
    const res = await fetch(`${server.url}/inventory/${name}/reserve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ orderId: "o4", quantity: 1 }),
    });
    expect(res.status).toBe(200);
    await until(() => live.rows[0]?.available === 3, "the live rows after the restart");
    const figures = (await (await fetch(`${server.url}/inventory/${name}/status`)).json()) as Figures;
    expect(live.rows).toEqual([
      { sku: name, available: figures.available, reserved: figures.reserved, sold: figures.sold },
    ]);
    expect(live.lsn).toBeGreaterThan(lsnBefore);
    // The LSN only ever moved forward: resumed, never replayed from the start.
    for (let i = 1; i < lsns.length; i++) expect(lsns[i]).toBeGreaterThan(lsns[i - 1]);

    sku.$close();
    bounded.$close();
    const closed = await sku.status().catch((e: RpcError) => e);
    expect((closed as RpcError).code).toBe("CLOSED");
  });
});

/** Compiled by `npm run typecheck`, never run: the proxy is typed by the actor class. */
function typeChecks(sku: ActorClient<typeof InventorySKU>): void {
  const status: Promise<InventoryStatus> = sku.status();
  const held: Promise<ReserveResult> = sku.reserve({ orderId: "o", quantity: 1 });
  // @ts-expect-error quantity is a number
  void sku.reserve({ orderId: "o", quantity: "1" });
  // @ts-expect-error orderId is required
  void sku.reserve({ quantity: 1 });
  // @ts-expect-error not a method of the actor
  void sku.nope();
  // @ts-expect-error framework methods are not part of the client
  void sku.destroy();
  // @ts-expect-error a number is not a status
  const wrong: Promise<number> = sku.status();
  void [status, held, wrong];
}
void typeChecks;
