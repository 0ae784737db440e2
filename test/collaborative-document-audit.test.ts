// Defects found by an audit of CollaborativeDocument: each test failed before its fix.
import { describe, expect, it } from "vitest";
import { ask, connect, docName, edit, serverBlocks } from "./document-helpers";

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
