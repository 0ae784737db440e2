// Who a socket is: what the Worker in front vouched for, never a `?userId=` the client put in the URL
// (except in development mode, where the coordinator itself vouches the URL's id: DESIGN.md §4).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, secured, userToken } from "./auth-helpers";
import { frameInbox } from "./frame-inbox";
import { openSocket, uniqueName } from "./rpc-helpers";

const SPOOF = { userId: "alice", userName: "Alice" };

describe("a vouched socket's identity is the vouched one", () => {
  it("a public or admin caller vouched without a user id does not become ?userId=", async () => {
    const stub = env.RPC_ACTOR.getByName(uniqueName("spoof"));
    for (const role of ["public", "admin"]) {
      const socket = await openSocket(stub, { caller: { role }, query: SPOOF });
      const who = (await socket.call("whoAmI")).result;
      expect(who, role).toMatchObject({ role, userId: null, name: null });
      socket.ws.close(1000, "done");
    }
    // A method that records its caller records nobody, not alice.
    const socket = await openSocket(stub, { caller: { role: "public" }, query: SPOOF });
    await socket.call("addItem", { id: 1, name: "x", qty: 1 });
    expect((await stub.items())[0].owner).toBeNull();
    // A vouched user stays that user whatever the URL says.
    const bob = await openSocket(stub, { caller: { role: "user", userId: "bob" }, query: SPOOF });
    expect((await bob.call("whoAmI")).result).toMatchObject({ userId: "bob", name: null });
  });
});

/** Open `/inventory/:sku/ws` through the coordinator with `vars`, and read the socket's own presence entry. */
async function selfThroughCoordinator(vars: Parameters<typeof secured>[0], query: Record<string, string>) {
  const sku = uniqueName("ident");
  const call = secured(vars);
  const restock = await call("POST", `/inventory/${sku}/restock`, {
    token: ADMIN_TOKEN,
    body: { quantity: 1 },
  });
  expect(restock.status).toBe(200);
  const res = await call("GET", `/inventory/${sku}/ws?${new URLSearchParams({ _pk: "me", ...query })}`, {
    headers: { Upgrade: "websocket" },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const inbox = frameInbox();
  ws.addEventListener("message", (e: MessageEvent) => inbox.push(JSON.parse(String(e.data))));
  ws.send(JSON.stringify({ type: "presence:list" }));
  const list = await inbox.next((f) => f.type === "presence:list");
  ws.close(1000, "done");
  return list.users.find((u: { id: string }) => u.id === "me");
}

describe("socket identity through the coordinator", () => {
  it("with auth on, ?userId= names nobody: no token, the admin token; a user token is its sub", async () => {
    expect(await selfThroughCoordinator(undefined, SPOOF)).toMatchObject({ userId: null, name: null });
    expect(await selfThroughCoordinator(undefined, { ...SPOOF, token: ADMIN_TOKEN })).toMatchObject({
      userId: null,
      name: null,
    });
    const bob = await userToken("bob");
    expect(await selfThroughCoordinator(undefined, { ...SPOOF, token: bob })).toMatchObject({
      userId: "bob",
    });
  });

  it("in development mode the coordinator vouches ?userId=&userName= (documented)", async () => {
    expect(await selfThroughCoordinator({}, SPOOF)).toMatchObject({ userId: "alice", name: "Alice" });
  });
});
