import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SECURED, secured, unsignedToken, userToken } from "./auth-helpers";
import { connect, docName, edit, ofType } from "./document-helpers";
import coordinator from "./worker";

/** The coordinator with auth variables set, as a fetcher for sockets. */
const securedFetch = async (request: Request): Promise<Response> =>
  coordinator.fetch(
    request,
    { ...env, ...SECURED } as Env,
    {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext,
  );

describe("CollaborativeDocument with auth on", () => {
  it("takes the user from the token (sub, name), not from ?userId=; refuses a missing or bad token", async () => {
    const doc = docName("auth");
    const alice = await connect(doc, "ignored", {
      query: { token: await userToken("alice", { claims: { name: "Alice A." } }), userId: "mallory" },
      fetcher: securedFetch,
    });
    expect(alice.received.find(ofType("init")).data).toMatchObject({ userId: "alice", role: "admin" });
    const bob = await connect(doc, "bob", {
      query: { token: await userToken("bob") },
      fetcher: securedFetch,
    });
    expect((await alice.next(ofType("presence"))).data).toMatchObject({
      action: "join",
      userId: "bob",
      userName: "bob",
    });
    const ack = await edit(bob, { type: "insert", blockId: "x" });
    expect((await alice.next(ofType("operation"))).data).toMatchObject({
      userId: "bob",
      operationId: ack.data.operationId,
    });

    const request = (query: string) =>
      new Request(`http://coordinator/documents/${doc}/ws?${query}`, { headers: { Upgrade: "websocket" } });
    for (const query of ["userId=alice", `token=${unsignedToken("alice")}`, "token=not-a-jwt"])
      expect((await securedFetch(request(query))).status).toBe(401);

    // HTTP routes need a user token too; a user's role on the document is checked by the actor.
    const call = secured();
    expect((await call("GET", `/documents/${doc}/blocks`)).status).toBe(401);
    const read = await call("GET", `/documents/${doc}/blocks`, { token: await userToken("bob") });
    expect(read.status, await read.clone().text()).toBe(200);
    const grant = { userId: "carol", role: "viewer" };
    const byBob = await call("POST", `/documents/${doc}/permissions`, {
      token: await userToken("bob"),
      body: grant,
    });
    expect(byBob.status).toBe(403);
    const byAlice = await call("POST", `/documents/${doc}/permissions`, {
      token: await userToken("alice"),
      body: grant,
    });
    expect(byAlice.status).toBe(200);
    const byAdmin = await call("POST", `/documents/${doc}/restore`, {
      token: ADMIN_TOKEN,
      body: { timestamp: Date.now() - 1 },
    });
    expect(byAdmin.status).toBe(200);
    const carol = await connect(doc, "carol", {
      query: { token: await userToken("carol") },
      fetcher: securedFetch,
    });
    expect((await edit(carol, { type: "insert", blockId: "c" })).code).toBe("READ_ONLY");
  });
});
