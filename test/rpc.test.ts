import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { defineActor } from "../src/index";
import { rpc } from "../src/rpc/index";
import { openSocket, uniqueName } from "./rpc-helpers";

const actor = (prefix: string) => env.RPC_ACTOR.getByName(uniqueName(prefix));

describe("socket RPC: calls", () => {
  it("correlates concurrent calls answered out of order by their id", async () => {
    const socket = await openSocket(actor("order"));
    // Sent in this order; the actor answers the shortest sleep first.
    // Gaps of 100 ms or more, so a loaded machine keeps the order.
    const delays = [900, 100, 600, 300, 0];
    for (const [i, ms] of delays.entries())
      socket.send({ id: `q${i}`, method: "sleep", args: [ms, { i, ms }] });
    const answers = await Promise.all(delays.map((_, i) => socket.next((f) => f.id === `q${i}`)));
    for (const [i, answer] of answers.entries())
      expect(answer).toEqual({ id: `q${i}`, result: { i, ms: delays[i] } });
    const order = socket.received.filter((f) => typeof f.id === "string").map((f) => f.id);
    expect(order).toEqual(["q4", "q1", "q3", "q2", "q0"]);
    // Numeric ids work too, and arguments arrive in order.
    socket.send({ id: 7, method: "echo", args: ["a", 2, { b: [true, null] }] });
    expect(await socket.next((f) => f.id === 7)).toEqual({ id: 7, result: ["a", 2, { b: [true, null] }] });
  });

  it("refuses every method not offered, framework methods included, without reaching them", async () => {
    const stub = actor("gate");
    const admin = await openSocket(stub, { caller: { role: "admin" } });
    for (const method of [
      "destroy",
      "items",
      "fetch",
      "alarm",
      "stats",
      "query",
      "run",
      "constructor",
      "__proto__",
      "toString",
      "_historySeed",
      "webSocketMessage",
      "onClientMessage",
      "nope",
    ]) {
      const answer = await admin.call(method);
      expect(answer.error?.code, method).toBe("METHOD_NOT_ALLOWED");
    }
    // destroy was declared ("admin") but is the framework's: the actor is still there.
    await admin.call("addItem", { id: 1, name: "kept", qty: 1 });
    expect(await stub.items()).toHaveLength(1);
  });

  it("checks the role each method needs against the caller the Worker in front vouched for", async () => {
    const stub = actor("roles");
    const anonymous = await openSocket(stub);
    const user = await openSocket(stub, { caller: { role: "user", userId: "u1" } });
    const admin = await openSocket(stub, { caller: { role: "admin", userId: "root" } });
    expect((await anonymous.call("adminOnly")).error.code).toBe("FORBIDDEN");
    expect((await anonymous.call("userOnly")).error.code).toBe("FORBIDDEN");
    expect((await user.call("adminOnly")).error.code).toBe("FORBIDDEN");
    expect((await user.call("userOnly")).result).toBe("hello u1");
    expect((await admin.call("adminOnly")).result).toBe("admin ok");
    expect((await admin.call("userOnly")).result).toBe("hello root");
    // A client cannot vouch for itself: the header only comes from the Worker in front.
    const forged = await openSocket(stub, { query: { userId: "mallory", role: "admin" } });
    expect((await forged.call("adminOnly")).error.code).toBe("FORBIDDEN");
  });

  it("gives the method the caller's identity, across its awaits", async () => {
    const stub = actor("who");
    const socket = await openSocket(stub, {
      id: "conn-1",
      caller: { role: "user", userId: "ada", name: "Ada" },
    });
    expect((await socket.call("whoAmI")).result).toEqual({
      connectionId: "conn-1",
      role: "user",
      userId: "ada",
      name: "Ada",
    });
    await socket.call("addItem", { id: 5, name: "x", qty: 1 });
    expect((await stub.items())[0].owner).toBe("ada");
    // Outside a socket call there is no caller.
    expect(await stub.whoAmI()).toBeNull();
  });

  it("validates arguments with the method's own schema, the same as over DO RPC", async () => {
    const stub = actor("validate");
    const socket = await openSocket(stub);
    const bad = await socket.call("addItem", { id: -1, name: "", qty: 1.5 });
    expect(bad.error.code).toBe("VALIDATION_FAILED");
    expect(bad.error.message).toMatch(/^id: /);
    const viaStub = await stub.addItem({ id: -1, name: "", qty: 1.5 }).catch((e: Error) => e.message);
    expect(viaStub).toContain("VALIDATION_FAILED");
    expect((await socket.call("addItem")).error.code).toBe("VALIDATION_FAILED");
    expect(await stub.items()).toEqual([]);
  });

  it("answers malformed RPC frames with a typed error and keeps the socket open", async () => {
    const socket = await openSocket(actor("frames"));
    const cases: [unknown, string][] = [
      [{ id: "a", method: "echo", args: "not a list" }, "VALIDATION_FAILED"],
      [{ id: "b", method: "echo", args: Array.from({ length: 17 }, () => 1) }, "VALIDATION_FAILED"],
      [{ id: "c", method: 42 }, "VALIDATION_FAILED"],
      [{ id: "d", method: "echo", cancel: "x" }, "INVALID_MESSAGE"],
      [{ id: "e", method: "notJson" }, "RESULT_NOT_JSON"],
      [{ id: "f", subscribe: "SELECT 1" }, "VALIDATION_FAILED"],
    ];
    for (const [frame, code] of cases) {
      socket.send(frame);
      const id = (frame as { id: string }).id;
      expect((await socket.next((f) => f.id === id)).error.code, JSON.stringify(frame)).toBe(code);
    }
    // Without a usable id the error is a plain error frame.
    socket.send({ id: { no: 1 }, method: "echo" });
    expect((await socket.next((f) => f.type === "error")).code).toBe("VALIDATION_FAILED");
    expect((await socket.call("echo", 1)).result).toEqual([1]);
  });

  it("a call on a hibernated socket wakes the actor and is answered, with the caller's role intact", async () => {
    const stub = actor("hibernate");
    const socket = await openSocket(stub, { caller: { role: "admin", userId: "op" } });
    expect((await socket.call("adminOnly")).result).toBe("admin ok");
    await evictDurableObject(stub);
    expect((await socket.call("adminOnly")).result).toBe("admin ok");
    expect((await socket.call("whoAmI")).result.userId).toBe("op");
    expect((await socket.call("addItem", { id: 9, name: "after", qty: 2 })).result).toEqual({ id: 9 });
    expect(await stub.items()).toHaveLength(1);
  });

  it("an actor without rpc never routes RPC frames to methods", async () => {
    const socket = await openSocket(env.NO_RPC_ACTOR.getByName(uniqueName("norpc")));
    socket.send({ id: "x", method: "echo", args: [1] });
    const answer = await socket.next((f) => f.type === "error");
    expect(answer.code).toBe("INVALID_MESSAGE");
    expect(socket.received.some((f) => f.result !== undefined)).toBe(false);
  });

  it("refuses a bad rpc config when the class is defined", () => {
    expect(() => rpc({ methods: { _secret: "public" } } as never)).toThrow(/INVALID_CONFIG/);
    expect(() => rpc({ methods: { ok: "" } })).toThrow(/INVALID_CONFIG/);
    expect(() => rpc({ methods: {}, maxInFlight: 0 })).toThrow(/INVALID_CONFIG/);
    expect(() => defineActor({ schema: {}, rpc: { kind: "rpc" } as never })).toThrow(/INVALID_CONFIG/);
  });

  it("bounds the calls one socket may have in flight", async () => {
    const socket = await openSocket(actor("inflight"));
    for (let i = 0; i < 40; i++) socket.send({ id: i, method: "sleep", args: [200, i] });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => socket.next((f) => f.id === i)));
    expect(answers.filter((a) => "result" in a)).toHaveLength(32);
    expect(answers.filter((a) => a.error?.code === "TOO_MANY_CALLS")).toHaveLength(8);
    socket.send({ id: "dup", method: "sleep", args: [100, 1] });
    socket.send({ id: "dup", method: "sleep", args: [0, 2] });
    expect((await socket.next((f) => f.id === "dup")).error.code).toBe("DUPLICATE_ID");
    expect((await socket.next((f) => f.id === "dup")).result).toBe(1);
  });
});

describe("socket RPC: streaming", () => {
  it("streams chunks in order, then done", async () => {
    const socket = await openSocket(actor("stream"));
    socket.send({ id: "s", method: "count", args: [5] });
    await socket.next((f) => f.id === "s" && f.done);
    const frames = socket.received.filter((f) => f.id === "s");
    expect(frames).toEqual(
      [1, 2, 3, 4, 5].map((chunk) => ({ id: "s", chunk })).concat([{ id: "s", done: true }] as never),
    );
  });

  it("a cancel stops the stream on the server", async () => {
    const stub = actor("cancel");
    const socket = await openSocket(stub);
    socket.send({ id: "long", method: "count", args: [1000, 20] });
    await socket.next((f) => f.id === "long" && f.chunk === 3);
    socket.send({ cancel: "long" });
    expect(await socket.next((f) => f.id === "long" && f.done)).toEqual({
      id: "long",
      done: true,
      cancelled: true,
    });
    await new Promise((r) => setTimeout(r, 150));
    const { progress, finished } = await stub.progress();
    expect(finished).toBe(true);
    expect(progress).toBeLessThan(10);
    const chunks = socket.received.filter((f) => f.id === "long" && "chunk" in f).map((f) => f.chunk);
    expect(chunks).toEqual(Array.from({ length: chunks.length }, (_, i) => i + 1));
    // The id is free again, and the socket still serves.
    expect((await socket.call("echo", "still here")).result).toEqual(["still here"]);
  });

  it("closing the socket stops its streams", async () => {
    const stub = actor("close");
    const socket = await openSocket(stub);
    socket.send({ id: "s", method: "count", args: [1000, 20] });
    await socket.next((f) => f.id === "s" && f.chunk === 2);
    socket.ws.close(1000, "bye");
    await new Promise((r) => setTimeout(r, 200));
    const { progress, finished } = await stub.progress();
    expect(finished).toBe(true);
    expect(progress).toBeLessThan(12);
  });
});
