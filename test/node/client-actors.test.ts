import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildingTelemetry } from "../../actors/building-telemetry/building-telemetry";
import type { Block } from "../../actors/collaborative-document/blocks";
import type { CollaborativeDocument } from "../../actors/collaborative-document/collaborative-document";
import { type ActorClient, connect, type RpcError } from "../../src/client/index";
import { startDev, type WranglerDev } from "./wrangler-dev.mjs";

// The typed client against the sockets of actors that also speak their own frames (development
// mode: every route open; the sockets' roles are covered in workerd by test/rpc-sockets.test.ts).
let dev: Awaited<ReturnType<typeof startDev>>;
let server: WranglerDev;

beforeAll(async () => {
  dev = await startDev("DOSQL_NODE_TEST", 1);
  server = dev.server;
});
afterAll(async () => dev?.stop());

const wsUrl = (path: string) => `${server.url.replace("http", "ws")}${path}`;

/** The next frame of `type` on a plain WebSocket. */
function nextOfType(ws: WebSocket, type: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} frame`)), 15_000);
    ws.addEventListener("message", function listener(event) {
      const frame = JSON.parse(String(event.data));
      if (frame.type !== type) return;
      clearTimeout(timer);
      ws.removeEventListener("message", listener);
      resolve(frame);
    });
  });
}

describe("dosql-actors/client against the document and building sockets (wrangler dev)", () => {
  it("connect<typeof CollaborativeDocument>: typed reads on /documents/:doc/ws beside the document's own frames", async () => {
    const doc = `node-doc-${Date.now()}`;
    const url = wsUrl(`/documents/${doc}/ws?userId=alice&userName=Alice`);
    // A plain socket speaking the document's frames, and the typed client on the same route.
    const editor = new WebSocket(url);
    const init = nextOfType(editor, "init");
    await new Promise((resolve) => editor.addEventListener("open", resolve));
    await init;
    const client = connect<typeof CollaborativeDocument>(url);
    expect((await client.blocks()).blocks).toEqual([]);

    const ack = nextOfType(editor, "ack");
    editor.send(
      JSON.stringify({
        type: "operation",
        id: 1,
        data: { type: "insert", blockId: "b1", content: { text: "Hi" } },
      }),
    );
    const { lsn } = (await ack).data;
    const [now, log] = await Promise.all([client.blocks(), client.operationLog({ limit: 5 })]);
    expect(now.lsn).toBe(lsn);
    expect(now.blocks.map((b: Block) => b.id)).toEqual(["b1"]);
    expect(log.history[0]).toMatchObject({ userId: "alice", blockId: "b1" });
    const refused = await client
      .grant({ userId: "bob", role: "admin" }, { userId: "alice" })
      .catch((e: RpcError) => e);
    expect((refused as RpcError).code).toBe("METHOD_NOT_ALLOWED");
    const invalid = await client.operationLog({ limit: 0 }).catch((e: RpcError) => e);
    expect((invalid as RpcError).code).toBe("VALIDATION_FAILED");
    client.$close();
    editor.close();
  });

  it("connect<typeof BuildingTelemetry>: typed reads and acknowledge on /buildings/:b/alerts/ws", async () => {
    const name = `node-b-${Date.now()}`;
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}/buildings/${name}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const rule = { sensorType: "co2", condition: "gt", thresholdValue: 1000, severity: "critical" };
    expect((await post("/alerts/rules", rule)).status).toBe(201);
    const reading = { sensorId: "r1", sensorType: "co2", value: 1500, unit: "ppm", timestamp: Date.now() };
    expect((await post("/ingest", reading)).status).toBe(200);

    // Development mode: the coordinator vouches ?userId= as the socket's user, the acknowledger.
    const b = connect<typeof BuildingTelemetry>(wsUrl(`/buildings/${name}/alerts/ws?userId=op`));
    const { alerts } = await b.activeAlerts();
    expect(alerts).toHaveLength(1);
    const recent = await b.realtime({ sensorType: "co2", minutes: 5 });
    expect(recent.data[0]).toMatchObject({ sensorId: "r1", max: 1500 });
    const acked = await b.acknowledge({ alertId: alerts[0].id });
    expect(acked).toMatchObject({ status: "ACKNOWLEDGED", acknowledgedBy: "op" });
    const refused = await b.ingest(reading as never).catch((e: RpcError) => e);
    expect((refused as RpcError).code).toBe("METHOD_NOT_ALLOWED");
    b.$close();
  });
});

/** Compiled by `npm run typecheck`, never run: both proxies are typed by their actor classes. */
function typeChecks(
  doc: ActorClient<typeof CollaborativeDocument>,
  b: ActorClient<typeof BuildingTelemetry>,
): void {
  const blocks: Promise<{ blocks: Block[]; lsn: number }> = doc.blocks();
  // @ts-expect-error limit is a number
  void doc.operationLog({ limit: "5" });
  // @ts-expect-error framework methods are not part of the client
  void doc.destroy();
  const active: Promise<{ alerts: { id: number }[] }> = b.activeAlerts();
  // @ts-expect-error alertId is required
  void b.acknowledge({ userId: "op" });
  void [blocks, active];
}
void typeChecks;
