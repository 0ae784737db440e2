import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ActorError } from "../src/index";
import type { ChatRoom } from "./fixtures/chat-room";
import { type Frame, frameInbox } from "./frame-inbox";

let seq = 0;
const roomName = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
type RoomStub = DurableObjectStub<ChatRoom>;

/** A real WebSocket client of an actor, collecting the frames it receives. */
interface Client {
  id: string;
  ws: WebSocket;
  send(frame: unknown): void;
  /** The first unread frame matching `match` (waits for it), marked read. */
  next(match?: (frame: Frame) => boolean): Promise<Frame>;
  /** Frames received so far, read or not. */
  received: Frame[];
}

async function connect(stub: RoomStub, id: string, query: Record<string, string> = {}): Promise<Client> {
  const params = new URLSearchParams({ _pk: id, ...query });
  const res = await stub.fetch(`http://room/ws?${params}`, { headers: { Upgrade: "websocket" } });
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  ws.accept();
  const inbox = frameInbox(id);
  ws.addEventListener("message", (event: MessageEvent) => {
    inbox.push(typeof event.data === "string" ? parse(event.data) : event.data);
  });
  return {
    id,
    ws,
    received: inbox.received,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next: (match) => inbox.next(match),
  };
}

function parse(text: string): Frame {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const ofType = (type: string) => (frame: Frame) => frame?.type === type;

/** Broadcast a marker to everyone and wait until `clients` have it: everything sent before it has arrived. */
async function settle(stub: RoomStub, ...clients: Client[]) {
  const marker = `marker-${seq++}`;
  await stub.announce(marker);
  for (const client of clients) await client.next((f) => f === marker);
}

describe("broadcast", () => {
  it("by topic reaches only that topic's subscribers; except leaves out the sender", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("topics"));
    const alice = await connect(stub, "alice-1", { userId: "alice" });
    const bob = await connect(stub, "bob-1", { userId: "bob" });
    const carol = await connect(stub, "carol-1", { userId: "carol", topics: "news" });

    alice.send({ type: "subscribe", topic: "news" });
    expect(await alice.next(ofType("subscribed"))).toEqual({ type: "subscribed", topics: ["news"] });

    expect(await stub.announce("news flash", "news")).toBe(2);
    await settle(stub, alice, bob, carol);
    expect(alice.received).toContain("news flash");
    expect(carol.received).toContain("news flash");
    expect(bob.received).not.toContain("news flash");

    // A client message broadcast by the actor to a topic, leaving out its sender.
    alice.send({ type: "say", text: "hello news", topic: "news" });
    expect(await carol.next(ofType("said"))).toEqual({ type: "said", from: "alice", text: "hello news" });
    await settle(stub, alice, bob, carol);
    expect(alice.received.filter(ofType("said"))).toEqual([]);
    expect(bob.received.filter(ofType("said"))).toEqual([]);

    // To everyone but the sender.
    bob.send({ type: "say", text: "hi all" });
    expect(await alice.next(ofType("said"))).toMatchObject({ from: "bob", text: "hi all" });
    expect(await carol.next(ofType("said"))).toMatchObject({ from: "bob", text: "hi all" });
    await settle(stub, bob);
    expect(bob.received.filter(ofType("said"))).toEqual([]);

    // Unsubscribed: no more topic messages.
    carol.send({ type: "unsubscribe", topic: "news" });
    expect(await carol.next(ofType("subscribed"))).toEqual({ type: "subscribed", topics: [] });
    expect(await stub.announce("late news", "news", "nobody")).toBe(1);
    await settle(stub, alice, carol);
    expect(carol.received).not.toContain("late news");
    expect(alice.received).toContain("late news");
    expect(await stub.said()).toEqual([
      { userId: "alice", text: "hello news" },
      { userId: "bob", text: "hi all" },
    ]);
  });

  it("presence: the joiner gets the list, others get join, update and leave", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("presence"));
    const alice = await connect(stub, "alice-1", { userId: "alice", userName: "Alice" });
    const first = await alice.next(ofType("presence:list"));
    expect(first.self).toBe("alice-1");
    expect(first.users.map((u: Frame) => u.id)).toEqual(["alice-1"]);

    const bob = await connect(stub, "bob-1", { userId: "bob", userName: "Bob" });
    const list = await bob.next(ofType("presence:list"));
    expect(list.users.map((u: Frame) => [u.id, u.userId, u.name]).sort()).toEqual([
      ["alice-1", "alice", "Alice"],
      ["bob-1", "bob", "Bob"],
    ]);
    expect((await alice.next(ofType("presence:join"))).user).toMatchObject({
      id: "bob-1",
      userId: "bob",
      name: "Bob",
    });

    bob.send({ type: "presence:update", presence: { cursor: 42, status: "typing" } });
    expect((await alice.next(ofType("presence:update"))).user).toMatchObject({
      id: "bob-1",
      presence: { cursor: 42, status: "typing" },
    });
    alice.send({ type: "presence:list" });
    const asked = await alice.next(ofType("presence:list"));
    expect(asked.users.find((u: Frame) => u.id === "bob-1").presence).toEqual({
      cursor: 42,
      status: "typing",
    });

    bob.ws.close(1000, "bye");
    expect((await alice.next(ofType("presence:leave"))).user).toMatchObject({ id: "bob-1", userId: "bob" });
    await vi.waitFor(async () =>
      expect((await stub.presence()).map((p: Frame) => p.id)).toEqual(["alice-1"]),
    );
    expect(bob.received.filter(ofType("presence:join"))).toEqual([]); // never told about itself
  });

  it("with presence off, no presence events are sent but the list is still there", async () => {
    const stub: RoomStub = env.QUIET_ROOM.getByName(roomName("quiet"));
    const alice = await connect(stub, "alice-1", { userId: "alice" });
    const bob = await connect(stub, "bob-1", { userId: "bob" });
    bob.ws.close(1000);
    await vi.waitFor(async () => expect(await stub.presence()).toHaveLength(1));
    await settle(stub, alice);
    expect(alice.received.filter((f) => String(f?.type).startsWith("presence"))).toEqual([]);
  });

  it("after hibernation (eviction) sockets still get broadcasts and connection state is intact", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("hibernate"));
    const alice = await connect(stub, "alice-1", { userId: "alice", userName: "Alice", topics: "news" });
    const bob = await connect(stub, "bob-1", { userId: "bob" });
    bob.send({ type: "subscribe", topic: "sports" });
    await bob.next(ofType("subscribed"));
    await stub.setData("alice-1", { role: "editor", seat: 3 });
    bob.send({ type: "presence:update", presence: { status: "away" } });
    await alice.next(ofType("presence:update"));
    const before = await stub.stateOf("alice-1");

    await evictDurableObject(stub);

    expect(await stub.stateOf("alice-1")).toEqual(before);
    expect(before).toMatchObject({
      userId: "alice",
      name: "Alice",
      topics: ["news"],
      data: { role: "editor", seat: 3 },
    });
    expect(await stub.stateOf("bob-1")).toMatchObject({
      userId: "bob",
      topics: ["sports"],
      presence: { status: "away" },
    });

    expect(await stub.announce("after sleep", "news")).toBe(1);
    expect(await alice.next((f) => f === "after sleep")).toBe("after sleep");
    // Client messages after hibernation wake the actor and are handled as before.
    await evictDurableObject(stub);
    bob.send({ type: "say", text: "still here", topic: "news" });
    expect(await alice.next(ofType("said"))).toEqual({ type: "said", from: "bob", text: "still here" });
    expect(alice.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
  });

  it("ping is answered pong by the runtime without reaching the actor", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("ping"));
    const alice = await connect(stub, "alice-1");
    await evictDurableObject(stub);
    alice.send("ping");
    expect(await alice.next((f) => f === "pong")).toBe("pong");
    const seen = await runInDurableObject(stub, (actor: ChatRoom, state) => ({
      frames: actor.frameCount(),
      autoResponse: state.getWebSocketAutoResponseTimestamp(state.getWebSockets()[0]),
    }));
    expect(seen.frames).toBe(0);
    expect(seen.autoResponse).toBeInstanceOf(Date);
  });
});

describe("client messages", () => {
  it("malformed, oversized or refused frames get an error frame; the socket stays open and nothing is written", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("malformed"));
    const alice = await connect(stub, "alice-1", { userId: "alice" });
    const bob = await connect(stub, "bob-1", { userId: "bob" });
    const cases: [unknown, string][] = [
      ["not json {", "INVALID_JSON"],
      [{ type: "say" }, "VALIDATION_FAILED"],
      [{ type: "say", text: "" }, "VALIDATION_FAILED"],
      [{ type: "say", text: 42 }, "VALIDATION_FAILED"],
      [{ type: "shout", text: "hi" }, "VALIDATION_FAILED"],
      [[1, 2, 3], "VALIDATION_FAILED"],
      ["null", "VALIDATION_FAILED"],
      [{ type: "say", text: "x".repeat(9_000) }, "MESSAGE_TOO_LARGE"],
      [{ type: "subscribe", topic: "" }, "VALIDATION_FAILED"],
      [{ type: "subscribe" }, "VALIDATION_FAILED"],
      [{ type: "subscribe", topic: "secret-plans" }, "FORBIDDEN"],
      [{ type: "presence:update", presence: "p".repeat(20_000) }, "MESSAGE_TOO_LARGE"],
      [{ type: "boom" }, "BOOM"],
    ];
    for (const [frame, code] of cases) {
      alice.send(frame);
      const error = await alice.next(ofType("error"));
      expect({ frame, code: error.code }).toEqual({ frame, code });
      expect(typeof error.message).toBe("string");
    }
    alice.ws.send(new Uint8Array([1, 2, 3]));
    expect((await alice.next(ofType("error"))).code).toBe("INVALID_MESSAGE");

    // The client's id comes back on the error, so it can tell which message failed.
    alice.send({ type: "say", id: "m-7" });
    expect(await alice.next(ofType("error"))).toMatchObject({ code: "VALIDATION_FAILED", replyTo: "m-7" });

    // Topic limit (maxTopics 4).
    for (const topic of ["a", "b", "c", "d"]) {
      alice.send({ type: "subscribe", topic });
      await alice.next(ofType("subscribed"));
    }
    alice.send({ type: "subscribe", topic: "e" });
    expect((await alice.next(ofType("error"))).code).toBe("TOO_MANY_TOPICS");

    // Still open and working; nothing was written by any refused frame. ("boom" wrote before it
    // threw: a handler that needs all-or-nothing uses this.transaction.)
    expect(alice.ws.readyState).toBe(WebSocket.READY_STATE_OPEN);
    alice.send({ type: "say", text: "valid at last" });
    expect(await bob.next(ofType("said"))).toMatchObject({ text: "valid at last" });
    expect(await stub.said()).toEqual([
      { userId: "boom", text: "written before the throw" },
      { userId: "alice", text: "valid at last" },
    ]);
    expect((await stub.stateOf("alice-1")).topics).toEqual(["a", "b", "c", "d"]);
  });

  it("refuses a connection whose identity is invalid, with an HTTP error and no socket", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("identify"));
    for (const query of [
      "userId=",
      `userId=${"u".repeat(200)}`,
      "topics=a,b,c,d,e",
      `topics=${"t".repeat(200)}`,
    ]) {
      const res = await stub.fetch(`http://room/ws?${query}`, { headers: { Upgrade: "websocket" } });
      expect(res.status).toBe(400);
      expect(res.webSocket).toBeNull();
      const body = (await res.json()) as { error: { code: string } };
      expect(["VALIDATION_FAILED", "TOO_MANY_TOPICS"]).toContain(body.error.code);
    }
    expect(await stub.presence()).toEqual([]);
  });

  it("a connection refused while joining gets the contract's error frame ({ type, data: { code, message } }), then a 1008 close", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("refused"));
    const refused = await connect(stub, "alice-1", { userId: "alice", topics: "broken-check" });
    const closed = new Promise<number>((resolve) =>
      refused.ws.addEventListener("close", (event: CloseEvent) => resolve(event.code)),
    );
    const message = "the check failed on purpose";
    expect(await refused.next(ofType("error"))).toEqual({
      type: "error",
      code: "CHECK_FAILED",
      message,
      data: { code: "CHECK_FAILED", message },
    });
    expect(await closed).toBe(1008);
  });

  it("connection state is size-guarded below the runtime's 16 KiB attachment limit", async () => {
    const stub = env.CHAT_ROOM.getByName(roomName("size"));
    await connect(stub, "alice-1", { userId: "alice" });
    try {
      await stub.setData("alice-1", "x".repeat(17_000));
      expect.unreachable();
    } catch (err) {
      expect(ActorError.from(err)?.code).toBe("CONNECTION_STATE_TOO_LARGE");
    }
    expect((await stub.stateOf("alice-1")).data).toBeNull();
    // The largest state the guard lets through is one the runtime keeps across hibernation.
    const big = "y".repeat(15_300);
    await stub.setData("alice-1", big);
    await evictDurableObject(stub);
    expect((await stub.stateOf("alice-1")).data).toBe(big);
  });
});
