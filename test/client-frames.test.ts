import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, RpcError } from "../src/client/index";
import type { RpcActor } from "./fixtures/rpc-actor";
import { openSocket, uniqueName } from "./rpc-helpers";

// dosql-actors/client inside workerd against real actor sockets: which frames answer a call, per-call
// timeouts, and a refused frame's error matched to its call by id.

type Stub = { fetch(request: Request): Promise<Response> };

/**
 * A WebSocket constructor for connect() whose sockets are real actor sockets, opened by a
 * `stub.fetch` upgrade (inside workerd a URL of the test has no server behind it). It only adapts
 * workerd's accepted socket to the browser shape partysocket expects: an `open` event, readyState.
 */
function socketsTo(stub: Stub): new (url: string) => WebSocket {
  return class ActorSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readyState = 0;
    binaryType = "blob";
    bufferedAmount = 0;
    extensions = "";
    protocol = "";
    #ws: WebSocket | undefined;
    constructor(readonly url: string) {
      super();
      const http = url.replace(/^ws/, "http");
      void stub.fetch(new Request(http, { headers: { Upgrade: "websocket" } })).then((res) => {
        const ws = res.webSocket;
        if (!ws || this.readyState === 3) return this.#closed(1006);
        ws.accept();
        this.#ws = ws;
        ws.addEventListener("message", (e) =>
          this.dispatchEvent(new MessageEvent("message", { data: e.data })),
        );
        ws.addEventListener("close", (e) => this.#closed(e.code));
        this.readyState = 1;
        this.dispatchEvent(new Event("open"));
      });
    }
    send(data: string): void {
      this.#ws?.send(data);
    }
    close(code?: number, reason?: string): void {
      if (this.readyState === 3) return;
      this.#ws?.close(code ?? 1000, reason);
      this.#closed(code ?? 1000);
    }
    #closed(code: number): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.dispatchEvent(new CloseEvent("close", { code, wasClean: code === 1000 }));
    }
  } as unknown as new (
    url: string,
  ) => WebSocket;
}

const rpcActor = () => env.RPC_ACTOR.getByName(uniqueName("client-frames"));
const within = (promise: PromiseLike<unknown>, ms = 3000) =>
  Promise.race([
    Promise.resolve(promise).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise((r) => setTimeout(() => r("still pending"), ms)),
  ]);

type Client = {
  sleep(ms: number, value: unknown): Promise<unknown>;
  echo(...args: unknown[]): Promise<unknown[]>;
  $on(event: string, listener: (frame?: unknown) => void): () => void;
  $close(): void;
};
const client = (stub: Stub, options: Record<string, unknown> = {}) =>
  connect<typeof RpcActor>(`http://actor/ws?_pk=${uniqueName("p")}`, {
    WebSocket: socketsTo(stub),
    minDelayMs: 50,
    ...options,
  }) as unknown as Client;

describe("frames with a type are broadcasts, never answers", () => {
  it("a broadcast carrying a top-level id or sub does not settle the pending call of that id, and reaches $on('message')", async () => {
    const stub = rpcActor();
    const c = client(stub);
    const heard: unknown[] = [];
    c.$on("message", (frame) => heard.push(frame));
    expect(await c.echo("ready")).toEqual(["ready"]); // c1
    const live = (
      c as unknown as { $live(sql: string): { ready: Promise<unknown[]>; rows: unknown[]; lsn: number } }
    ).$live("SELECT id, name, qty FROM items"); // l2
    await live.ready;
    const lsn = live.lsn;
    const pending = c.sleep(1500, "the real answer"); // c3
    await new Promise((r) => setTimeout(r, 100));
    const push = {
      type: "tick",
      sub: "l2",
      since: lsn,
      lsn: lsn + 5,
      rows: [{ id: 9, name: "x", qty: 1 }],
      removed: [],
    };
    await runInDurableObject(stub, (actor: RpcActor) => {
      actor.broadcast({ type: "chat", id: "c3", result: "a chat line, not an answer" });
      actor.broadcast(push);
    });
    expect(await pending).toBe("the real answer");
    expect(live.rows).toEqual([]);
    expect(live.lsn).toBe(lsn);
    // (The actor's own presence:list on connect is heard too.)
    expect(heard.filter((f) => ["chat", "tick"].includes((f as { type: string }).type))).toEqual([
      { type: "chat", id: "c3", result: "a chat line, not an answer" },
      push,
    ]);
    c.$close();
  });
});

describe("per-call timeouts", () => {
  it("a call with no answer within the client's timeoutMs rejects with TIMEOUT, frees its slot, and the late answer is ignored", async () => {
    const stub = rpcActor();
    const c = client(stub, { timeoutMs: 300 });
    expect(await c.echo("up")).toEqual(["up"]);
    const started = Date.now();
    const outcome = (await within(c.sleep(1500, "too late"))) as { error?: RpcError };
    expect(outcome).not.toBe("still pending");
    expect(outcome.error).toBeInstanceOf(RpcError);
    expect(outcome.error?.code).toBe("TIMEOUT");
    expect(outcome.error?.details).toEqual({ timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1200);
    // The late answer (after 1.5 s) settles nothing else, and the client goes on.
    await new Promise((r) => setTimeout(r, 1400));
    expect(await c.echo("still up")).toEqual(["still up"]);
    c.$close();
  });

  it("$with({ timeoutMs }) sets one call's timeout, longer or shorter than the client's", async () => {
    const stub = rpcActor();
    const c = client(stub, { timeoutMs: 300 }) as Client & { $with(o: { timeoutMs?: number }): Client };
    expect(await c.$with({ timeoutMs: 3000 }).sleep(800, "waited")).toBe("waited");
    expect(await c.$with({ timeoutMs: 0 }).sleep(800, "no limit")).toBe("no limit");
    const none = client(stub, { timeoutMs: 0 }) as Client & { $with(o: { timeoutMs?: number }): Client };
    const outcome = (await within(none.$with({ timeoutMs: 200 }).sleep(1500, "late"))) as {
      error?: RpcError;
    };
    expect(outcome.error?.code).toBe("TIMEOUT");
    expect(() => none.$with({ timeoutMs: -1 })).toThrow(TypeError);
    c.$close();
    none.$close();
  });

  it("a call waiting offline times out too and leaves the bounded queue (its place taken by the next call)", async () => {
    // The test Worker's coordinator, on a route it does not have (404): the upgrade is refused for real
    // and the client stays offline, its calls waiting in the queue.
    const offline = connect<typeof RpcActor>("http://actor/nowhere", {
      WebSocket: socketsTo(SELF),
      minDelayMs: 50,
      maxQueue: 1,
      timeoutMs: 200,
    }) as unknown as Client;
    const first = within(offline.echo(1), 2000);
    const full = (await within(offline.echo(2))) as { error?: RpcError };
    expect(full.error?.code).toBe("QUEUE_FULL");
    expect(((await first) as { error?: RpcError }).error?.code).toBe("TIMEOUT");
    // Its place in the queue is free again: the next call waits (and times out), it is not refused.
    expect(((await within(offline.echo(3), 2000)) as { error?: RpcError }).error?.code).toBe("TIMEOUT");
    offline.$close();
  });

  it("a stream's timeout is the longest wait for its next chunk; a stalled stream is cancelled on the server", async () => {
    const stub = rpcActor();
    const c = client(stub, { timeoutMs: 400 }) as Client & {
      count(n: number, everyMs: number): PromiseLike<number[]>;
    };
    // 6 chunks 150 ms apart: 900 ms in all, never 400 ms without a frame.
    expect(await c.count(6, 150)).toEqual([1, 2, 3, 4, 5, 6]);
    c.$close();
    // On an actor of its own (the fixture's progress counter is per instance): 3 chunks 1 s apart.
    const quiet = rpcActor();
    const d = client(quiet, { timeoutMs: 400 }) as typeof c;
    const started = Date.now();
    const stalled = (await within(d.count(3, 1000))) as { error?: RpcError };
    expect(stalled.error?.code).toBe("TIMEOUT");
    // Long after the stream would have ended had it gone on: it was stopped where it was.
    await new Promise((r) => setTimeout(r, 3500 - (Date.now() - started)));
    const progress = await runInDurableObject(quiet, (actor: RpcActor) => actor.progress());
    expect(progress.finished).toBe(true);
    expect(progress.progress).toBeLessThan(3);
    d.$close();
  });
});

describe("a frame too large to read is matched to its call by id", () => {
  it("the socket's MESSAGE_TOO_LARGE error names the call (replyTo) when the frame starts with a plain id, and only then", async () => {
    const ws = await openSocket(rpcActor());
    const pad = "x".repeat(70_000); // over the 64 KiB of the actor's sockets
    ws.send(`{"id":"big-1","method":"echo","args":["${pad}"]}`);
    ws.send(`{"id":7,"method":"echo","args":["${pad}"]}`);
    // Not readable cheaply and safely: the id not first, an escape in it, a number not an id.
    ws.send(`{"method":"echo","id":"late","args":["${pad}"]}`);
    ws.send(`{"id":"a\\"b","method":"echo","args":["${pad}"]}`);
    ws.send(`{"id":1e400,"method":"echo","args":["${pad}"]}`);
    const errors = [];
    for (let i = 0; i < 5; i++) errors.push(await ws.next((f) => f.type === "error"));
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill("MESSAGE_TOO_LARGE"));
    expect(errors.map((e) => e.replyTo)).toEqual(["big-1", 7, undefined, undefined, undefined]);
    ws.ws.close();
  });

  it("the client fails the call the error names, not the largest one waiting", async () => {
    const stub = rpcActor();
    const c = client(stub, { timeoutMs: 0 });
    expect(await c.echo("up")).toEqual(["up"]);
    const failed: string[] = [];
    // Two frames too large, the smaller first: each error is its own call's.
    const small = c.echo("s".repeat(70_000)).then(undefined, (e: RpcError) => failed.push(`small:${e.code}`));
    const large = c.echo("l".repeat(90_000)).then(undefined, (e: RpcError) => failed.push(`large:${e.code}`));
    await Promise.all([small, large]);
    expect(failed).toEqual(["small:MESSAGE_TOO_LARGE", "large:MESSAGE_TOO_LARGE"]);
    expect(await c.echo("still up")).toEqual(["still up"]);
    c.$close();
  });

  it("a call refused with an error frame naming it (an actor that offers no RPC) fails at once instead of waiting", async () => {
    const c = client(env.CHAT_ROOM.getByName(uniqueName("no-rpc")), { timeoutMs: 0 });
    const outcome = (await within(c.echo("hello"))) as { error?: RpcError };
    expect(outcome).not.toBe("still pending");
    expect(outcome.error).toBeInstanceOf(RpcError);
    expect(outcome.error?.code).toBe("VALIDATION_FAILED");
    c.$close();
  });
});
