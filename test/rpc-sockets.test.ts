// RPC frames on the sockets of actors that also speak their own frames: CollaborativeDocument
// (`/documents/:doc/ws`) and BuildingTelemetry (`/buildings/:b/alerts/ws`), through the coordinator.
import { env, evictDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SECURED, userToken } from "./auth-helpers";
import { docName } from "./document-helpers";
import { openSocket, type RpcSocket, uniqueName } from "./rpc-helpers";
import { baseHour, building, reading } from "./telemetry-helpers";
import coordinator from "./worker";

type Fetcher = (request: Request) => Promise<Response>;

/** The test Worker (development mode: every route open), as SELF. */
const dev: Fetcher = (request) =>
  (exports as unknown as { default: { fetch: Fetcher } }).default.fetch(request);

/** The coordinator with auth on (AUTH_JWT_SECRET and ADMIN_TOKEN set). */
const securedFetch: Fetcher = async (request) =>
  coordinator.fetch(
    request,
    { ...env, ...SECURED } as Env,
    {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext,
  );

/** A real socket on a coordinator route (`path`), with openSocket's query (`_pk`, token, …) added. */
function socketAt(path: string, fetcher: Fetcher, query: Record<string, string> = {}): Promise<RpcSocket> {
  return openSocket(
    {
      fetch: (request) =>
        fetcher(new Request(`http://coordinator${path}${new URL(request.url).search}`, request)),
    },
    { query },
  );
}

const post = (fetcher: Fetcher, path: string, body: unknown, token?: string) =>
  fetcher(
    new Request(`http://coordinator${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    }),
  );

const isType = (type: string) => (f: any) => f?.type === type;

describe("CollaborativeDocument: RPC on /documents/:doc/ws", () => {
  const docSocket = (doc: string, user: string, fetcher: Fetcher = dev, query: Record<string, string> = {}) =>
    socketAt(`/documents/${doc}/ws`, fetcher, { userId: user, userName: user, ...query });

  it("answers offered reads correlated by id, beside the document's own frames on the same socket", async () => {
    const doc = docName("rpc");
    const alice = await docSocket(doc, "alice");
    await alice.next(isType("init"));
    const bob = await docSocket(doc, "bob");
    await bob.next(isType("init"));

    // The document's own frames work as before.
    alice.send({
      type: "operation",
      id: 1,
      data: { type: "insert", blockId: "b1", content: { text: "Hi" } },
    });
    const ack = await alice.next((f) => f.type === "ack" && f.data.id === 1);
    expect(await bob.next(isType("operation"))).toMatchObject({ data: { blockId: "b1", userId: "alice" } });

    // Two calls in flight at once, each answered under its own id.
    alice.send({ id: "x1", method: "operationLog", args: [{ limit: 5 }] });
    alice.send({ id: "x2", method: "blocks", args: [] });
    const [log, blocks] = [await alice.next((f) => f.id === "x1"), await alice.next((f) => f.id === "x2")];
    expect(blocks.result.lsn).toBe(ack.data.lsn);
    expect(blocks.result.blocks.map((b: { id: string }) => b.id)).toEqual(["b1"]);
    expect(log.result.history).toHaveLength(1);
    expect(log.result.history[0]).toMatchObject({ userId: "alice", blockId: "b1" });
    const presence = await bob.call("presenceList");
    expect(presence.result.presence.map((p: { userId: string }) => p.userId)).toEqual(["alice", "bob"]);

    // Frames after the calls still work, and an RPC answer never reaches the other socket.
    bob.send({ type: "operation", id: 2, data: { type: "update", blockId: "b1", content: { text: "Yo" } } });
    await bob.next((f) => f.type === "ack" && f.data.id === 2);
    expect((await alice.next(isType("operation"))).data).toMatchObject({ blockId: "b1", userId: "bob" });
    expect(bob.received.some((f) => f.id === "x1" || f.id === "x2")).toBe(false);
    alice.ws.close();
    bob.ws.close();
  });

  it("refuses methods not offered (METHOD_NOT_ALLOWED) and bad arguments (VALIDATION_FAILED); the socket stays open", async () => {
    const doc = docName("rpc-refuse");
    const alice = await docSocket(doc, "alice");
    await alice.next(isType("init"));
    for (const method of ["grant", "branchDocument", "mergeDocument", "sweepPresence", "destroy", "query"])
      expect((await alice.call(method, { userId: "bob", role: "admin" })).error.code).toBe(
        "METHOD_NOT_ALLOWED",
      );
    expect((await alice.call("operationLog", { limit: "ten" })).error.code).toBe("VALIDATION_FAILED");
    expect((await alice.call("operationLog", { limit: 0 })).error.code).toBe("VALIDATION_FAILED");
    expect((await alice.call("restore", {})).error.code).toBe("VALIDATION_FAILED");
    alice.send({ id: "bad", method: "blocks", args: "not a list" });
    expect((await alice.next((f) => f.id === "bad")).error.code).toBe("VALIDATION_FAILED");
    // Nothing was granted by the refused calls; the socket still serves.
    expect((await alice.call("blocks")).result.blocks).toEqual([]);
    expect(alice.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    alice.ws.close();
  });

  it("restore needs the document's admin: an editor is refused (a caller argument claiming admin is ignored), the admin restores", async () => {
    const doc = docName("rpc-role");
    const alice = await docSocket(doc, "alice"); // the first user: the document's admin
    await alice.next(isType("init"));
    const bob = await docSocket(doc, "bob"); // an editor
    await bob.next(isType("init"));
    const before = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    bob.send({ type: "operation", id: 1, data: { type: "insert", blockId: "b1", content: { text: "x" } } });
    await bob.next((f) => f.type === "ack" && f.data.id === 1);

    const refused = await bob.call("restore", { timestamp: before }, { userId: "alice", admin: true });
    expect(refused.error).toMatchObject({ code: "FORBIDDEN" });
    expect(refused.error.message).toContain("bob is a editor");
    expect((await bob.call("blocks")).result.blocks.map((b: { id: string }) => b.id)).toEqual(["b1"]);

    // A viewer's refusal says so (READ_ONLY), read over the socket still works.
    const granted = await post(dev, `/documents/${doc}/permissions?userId=alice`, {
      userId: "bob",
      role: "viewer",
    });
    expect(granted.status).toBe(200);
    expect((await bob.call("restore", { timestamp: before })).error.code).toBe("READ_ONLY");

    const restored = await alice.call("restore", { timestamp: before });
    expect(restored.result).toMatchObject({ changes: 1 });
    expect((await bob.next(isType("refresh"))).data.blocks).toEqual([]);
    expect((await bob.call("blocks")).result.blocks).toEqual([]);
    alice.ws.close();
    bob.ws.close();
  });

  it("with auth on: the socket's user is the token's, for reads and role checks", async () => {
    const doc = docName("rpc-auth");
    const alice = await docSocket(doc, "ignored", securedFetch, { token: await userToken("alice") });
    await alice.next(isType("init"));
    const bob = await docSocket(doc, "alice", securedFetch, { token: await userToken("bob") });
    await bob.next(isType("init"));
    expect((await bob.call("presenceList")).result.presence.map((p: any) => p.userId)).toEqual([
      "alice",
      "bob",
    ]);
    // bob asked for ?userId=alice: ignored, he is bob (an editor), so restore is refused.
    const now = Date.now();
    expect((await bob.call("restore", { timestamp: now })).error.code).toBe("FORBIDDEN");
    const restored = await alice.call("restore", { timestamp: now });
    expect(restored.error).toBeUndefined();
    expect(restored.result).toMatchObject({ changes: 0 });
    alice.ws.close();
    bob.ws.close();
  });
});

describe("BuildingTelemetry: RPC on /buildings/:b/alerts/ws", () => {
  /** A building with a co2 rule and one ACTIVE alert. */
  async function seeded() {
    const name = uniqueName("rpc-b");
    const b = building(name);
    await b.createRule({ sensorType: "co2", condition: "gt", thresholdValue: 1000, severity: "critical" });
    const t = baseHour();
    const first = await b.ingest(reading("room-1", t, 1500, { sensorType: "co2", unit: "ppm" }));
    return { name, b, t, alertId: first.alerts[0].id as number };
  }
  const alertsAt = (name: string, fetcher: Fetcher = dev, query: Record<string, string> = {}) =>
    socketAt(`/buildings/${name}/alerts/ws`, fetcher, query);

  it("answers public reads correlated by id, acknowledge (development mode: admin), and keeps its alert frames", async () => {
    const { name, t, alertId } = await seeded();
    const ws = await alertsAt(name);
    expect((await ws.next(isType("init"))).data.alerts.map((a: any) => a.id)).toEqual([alertId]);

    ws.send({ id: 1, method: "realtime", args: [{ minutes: 1 }] });
    ws.send({ id: 2, method: "activeAlerts", args: [] });
    ws.send({ id: 3, method: "queryAggregates", args: [{ sensorType: "co2", hours: 3 }] });
    const [realtime, active, aggregates] = [
      await ws.next((f) => f.id === 1),
      await ws.next((f) => f.id === 2),
      await ws.next((f) => f.id === 3),
    ];
    expect(realtime.result).toMatchObject({ data: [] }); // the reading is two hours old
    expect(active.result.alerts.map((a: any) => a.id)).toEqual([alertId]);
    expect(aggregates.result.data).toEqual([
      expect.objectContaining({ sensorId: "room-1", sensorType: "co2", count: 1, max: 1500 }),
    ]);
    expect((await ws.call("listRules")).result.rules).toHaveLength(1);

    // An ingest over HTTP still pushes its alert frame to this socket.
    const res = await post(
      dev,
      `/buildings/${name}/ingest`,
      reading("room-2", t + 1000, 1800, {
        sensorType: "co2",
        unit: "ppm",
      }),
    );
    expect(res.status).toBe(200);
    expect((await ws.next(isType("alert"))).data).toMatchObject({ sensorId: "room-2", status: "ACTIVE" });

    // Acknowledge over the socket: answered, and broadcast as the actor's own frame.
    // The acknowledger is the socket's vouched caller (no ?userId=: the admin), not the argument.
    const ack = await ws.call("acknowledge", { alertId, userId: "op-1" });
    expect(ack.result).toMatchObject({ id: alertId, status: "ACKNOWLEDGED", acknowledgedBy: "admin" });
    expect((await ws.next(isType("alert-acknowledged"))).data).toMatchObject({ id: alertId });
    ws.ws.close();
  });

  it("with auth on: a public socket reads but may not acknowledge (FORBIDDEN, nothing written); the admin token may", async () => {
    const { name, b, alertId } = await seeded();
    const anyone = await alertsAt(name, securedFetch);
    await anyone.next(isType("init"));
    expect((await anyone.call("activeAlerts")).result.alerts).toHaveLength(1);
    const refused = await anyone.call("acknowledge", { alertId, userId: "mallory" });
    expect(refused.error).toMatchObject({ code: "FORBIDDEN" });
    const user = await alertsAt(name, securedFetch, { token: await userToken("u1") });
    await user.next(isType("init"));
    expect((await user.call("acknowledge", { alertId, userId: "u1" })).error.code).toBe("FORBIDDEN");
    expect((await b.activeAlerts()).alerts[0]).toMatchObject({ status: "ACTIVE", acknowledgedBy: null });
    expect(anyone.take(isType("alert-acknowledged"))).toEqual([]);

    const operator = await alertsAt(name, securedFetch, { token: ADMIN_TOKEN });
    await operator.next(isType("init"));
    expect((await operator.call("acknowledge", { alertId, userId: "op-2" })).result).toMatchObject({
      status: "ACKNOWLEDGED",
    });
    // The public socket sees the acknowledgement as its own alert frame.
    expect((await anyone.next(isType("alert-acknowledged"))).data).toMatchObject({ acknowledgedBy: "admin" });
    // After an eviction (hibernation) the sockets keep their roles: calls wake the actor and are answered.
    await evictDurableObject(b);
    expect((await anyone.call("activeAlerts")).result.alerts[0]).toMatchObject({ status: "ACKNOWLEDGED" });
    expect((await anyone.call("acknowledge", { alertId, userId: "mallory" })).error.code).toBe("FORBIDDEN");
    expect((await operator.call("acknowledge", { alertId, userId: "op-3" })).error.code).toBe(
      "INVALID_STATUS_ACKNOWLEDGED",
    );
    for (const s of [anyone, user, operator]) s.ws.close();
  });

  it("the acknowledger recorded is the caller the Worker vouched for, never the userId argument", async () => {
    const { name, b, t, alertId } = await seeded();
    const more = async (sensor: string) =>
      (await b.ingest(reading(sensor, t, 1500, { sensorType: "co2", unit: "ppm" }))).alerts[0].id as number;
    const [second, third, fourth] = [await more("room-2"), await more("room-3"), await more("room-4")];
    const byOf = async (id: number) =>
      (await b.activeAlerts()).alerts.find((a: { id: number }) => a.id === id)?.acknowledgedBy;
    // Auth on: the admin token names no user, so the acknowledger is "admin", on the socket and over HTTP.
    const operator = await alertsAt(name, securedFetch, { token: ADMIN_TOKEN, userId: "op-x" });
    await operator.next(isType("init"));
    expect((await operator.call("acknowledge", { alertId, userId: "mallory" })).result).toMatchObject({
      acknowledgedBy: "admin",
    });
    const res = await post(
      securedFetch,
      `/buildings/${name}/alerts/acknowledge`,
      { alertId: second, userId: "mallory" },
      ADMIN_TOKEN,
    );
    expect(res.status).toBe(200);
    expect(await byOf(second)).toBe("admin");
    // A Worker that vouches for an operator by name: that operator, whatever the argument says.
    const named = await openSocket(b, { caller: { role: "admin", userId: "op-9" } });
    expect((await named.call("acknowledge", { alertId: third, userId: "mallory" })).result).toMatchObject({
      acknowledgedBy: "op-9",
    });
    // Development mode: the user the coordinator vouched from ?userId= (no userId argument needed).
    const dev = await alertsAt(name, undefined, { userId: "op-1" });
    await dev.next(isType("init"));
    expect((await dev.call("acknowledge", { alertId: fourth })).result).toMatchObject({
      acknowledgedBy: "op-1",
    });
    for (const s of [operator, named, dev]) s.ws.close();
  });

  it("refuses methods not offered (METHOD_NOT_ALLOWED) and bad arguments (VALIDATION_FAILED)", async () => {
    const { name, b, t } = await seeded();
    const ws = await alertsAt(name); // development mode: the admin role, so only the offer limits it
    await ws.next(isType("init"));
    const write = reading("room-9", t, 5000, { sensorType: "co2", unit: "ppm" });
    for (const [method, arg] of [
      ["ingest", write],
      ["ingestBatch", [write]],
      ["createRule", { sensorType: "co2", condition: "gt", thresholdValue: 1 }],
      ["configure", { retention: { raw: "1h" } }],
      ["rollup", undefined],
      ["destroy", undefined],
      ["query", "DELETE FROM alert_rules"],
    ] as const)
      expect((await ws.call(method, arg)).error.code).toBe("METHOD_NOT_ALLOWED");
    expect((await b.listRules()).rules).toHaveLength(1);
    expect(await b.activeAlerts()).toMatchObject({
      alerts: [expect.objectContaining({ sensorId: "room-1" })],
    });

    expect((await ws.call("queryAggregates", { hours: -1 })).error.code).toBe("VALIDATION_FAILED");
    expect((await ws.call("realtime", { sensorType: 7 })).error.code).toBe("VALIDATION_FAILED");
    expect((await ws.call("acknowledge", { alertId: "1" })).error.code).toBe("VALIDATION_FAILED");
    expect((await ws.call("historical", {})).error.code).toBe("VALIDATION_FAILED");
    // A typed frame the actor does not take is still refused its own way.
    ws.send({ type: "acknowledge", alertId: 1 });
    expect((await ws.next(isType("error"))).code).toBe("INVALID_MESSAGE");
    expect(ws.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    ws.ws.close();
  });
});
