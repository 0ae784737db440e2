// Defects found by an audit of CollaborativeDocument: each test failed before its fix.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ask, call, connect, docName, edit, post, serverBlocks } from "./document-helpers";

describe("CollaborativeDocument: undo of an insert never deletes someone else's work inside it", () => {
  it("is a conflict when another user edited or moved a block of the subtree it would remove", async () => {
    const doc = docName("subtree");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    // Alice's block m exists first; then her section x with a child c.
    await edit(alice, { type: "insert", blockId: "m", content: "alice's older block" });
    await edit(alice, { type: "insert", blockId: "x", content: "section" });
    await edit(alice, { type: "insert", blockId: "c", parentId: "x", content: "child" });
    // Bob writes into c and moves m into x.
    await edit(bob, { type: "update", blockId: "c", content: "bob's paragraph" });
    await edit(bob, { type: "move", blockId: "m", parentId: "x", position: 5 });

    // Alice's newest edit (insert c) clashes with Bob's update: refused, it leaves her stack.
    expect((await ask(alice, "undo")).type).toBe("conflict");
    // Her insert of x would delete c (Bob's text) and m (a block older than x): refused too.
    const second = await ask(alice, "undo");
    expect(second.type).toBe("conflict");
    expect(second.data).toMatchObject({ action: "undo", conflictingUserId: "bob" });
    const blocks = await serverBlocks(doc);
    expect(blocks.map((b) => b.id)).toEqual(["c", "m", "x"]);
    expect(blocks.find((b) => b.id === "c")!.content).toBe("bob's paragraph");
    alice.close();
    bob.close();
  });

  it("still removes the subtree when only its author touched it", async () => {
    const doc = docName("own-subtree");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await edit(alice, { type: "insert", blockId: "x" });
    await edit(bob, { type: "insert", blockId: "elsewhere" });
    const undone = await ask(alice, "undo");
    expect(undone.data).toMatchObject({ deleted: ["x"] });
    expect((await serverBlocks(doc)).map((b) => b.id)).toEqual(["elsewhere"]);
    alice.close();
    bob.close();
  });
});

describe("CollaborativeDocument: a branch is a document of its own", () => {
  it("sync on a branch sends only the branch's own changes, never its parent's log again", async () => {
    const doc = docName("branch-sync");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a", content: "a0" });
    await edit(alice, { type: "insert", blockId: "b", content: "b0" });
    await edit(alice, { type: "update", blockId: "a", content: "a1" });
    expect((await post(`/documents/${doc}/branch`, { name: draft })).status).toBe(201);

    const bob = await connect(draft, "bob");
    // Nothing happened on the branch since bob's init: nothing to send.
    const first = await ask(bob, "sync", { sinceLsn: bob.lsn });
    expect(bob.take((f) => f.type === "operation" || f.type === "undo" || f.type === "redo")).toEqual([]);
    expect(first.data.refreshed).toBe(false);
    const ack = await edit(bob, { type: "update", blockId: "b", content: "b1 (draft)" });
    expect(ack.type).toBe("ack");
    // Bob reconnects with what he had and asks for what he missed (nothing).
    const seen = bob.view();
    const seenLsn = bob.lsn;
    bob.close();
    const again = await connect(draft, "bob");
    again.blocks.clear();
    for (const b of seen) again.blocks.set(b.id, b);
    again.take(() => true);
    await ask(again, "sync", { sinceLsn: seenLsn });
    expect(again.take((f) => f.type === "operation")).toEqual([]);
    expect(again.view()).toEqual(await serverBlocks(draft));
    alice.close();
    again.close();
  });

  it("presence on a branch lists who is on the branch, not who was on its parent", async () => {
    const doc = docName("branch-presence");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a" });
    alice.send({ type: "presence", data: { cursorBlockId: "a", cursorOffset: 3 } });
    await expect
      .poll(async () => ((await (await call(`/documents/${doc}/presence`)).json()) as any).presence[0])
      .toMatchObject({ userId: "alice", cursorOffset: 3 });
    expect((await post(`/documents/${doc}/branch`, { name: draft })).status).toBe(201);
    const listed = (await (await call(`/documents/${draft}/presence`)).json()) as any;
    expect(listed.presence).toEqual([]);
    const bob = await connect(draft, "bob");
    const init = bob.received.find((f) => f.type === "init");
    expect(init.data.presence.map((p: any) => p.userId)).toEqual(["bob"]);
    // Presence left by a crash on the branch is swept there too.
    const stub = env.COLLABORATIVE_DOCUMENT.getByName(draft);
    expect(await runInDurableObject(stub, (actor) => actor.schedule.get("presence")?.method)).toBe(
      "sweepPresence",
    );
    alice.close();
    bob.close();
  });
});
