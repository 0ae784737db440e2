// CollaborativeDocument after an upgrade: a branch made (and edited) before branches adopted their
// copy of the parent's log (fe94657) is adopted on its first use after the upgrade.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ask, connect, docName, edit, ofType, post, serverBlocks } from "./document-helpers";

describe("CollaborativeDocument: a branch edited before adoption existed", () => {
  it("loses no edit on sync and overwrites none through baseLsn when it is adopted after the upgrade", async () => {
    const doc = docName("old-branch");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a", content: "a0" });
    await edit(alice, { type: "insert", blockId: "b", content: "b0" });
    await edit(alice, { type: "update", blockId: "a", content: "a1" });
    expect((await post(`/documents/${doc}/branch`, { name: draft })).status).toBe(201);

    // The branch is used as the code before fe94657 used it: Bob and Carol edit it, Carol leaves
    // after Bob's first edit, Bob goes on.
    const bob = await connect(draft, "bob");
    const carol = await connect(draft, "carol");
    await edit(bob, { type: "update", blockId: "b", content: "b1 (draft)" });
    await carol.next((f) => f.type === "operation" && f.data.content === "b1 (draft)");
    const carolLsn = carol.lsn;
    const carolView = carol.view();
    carol.close();
    await edit(bob, { type: "update", blockId: "a", content: "a (draft)" });
    await edit(bob, { type: "insert", blockId: "c", content: "new in draft" });
    bob.close();
    // What that code left: the documents row still names the parent and the copied entries carry
    // the parent's LSNs (the branch's own entries carry the branch's).
    const parentLsns = await runInDurableObject(env.COLLABORATIVE_DOCUMENT.getByName(doc), (actor) =>
      actor.query<{ id: number; lsn: number }>("SELECT id, lsn FROM operations ORDER BY id"),
    );
    await runInDurableObject(env.COLLABORATIVE_DOCUMENT.getByName(draft), (actor) => {
      actor.transaction(() => {
        actor.query("UPDATE documents SET id = ?", [doc]);
        for (const { id, lsn } of parentLsns)
          actor.query("UPDATE operations SET lsn = ? WHERE id = ?", [lsn, id]);
      });
    });
    await evictDurableObject(env.COLLABORATIVE_DOCUMENT.getByName(draft));

    // After the upgrade Carol comes back with her copy and asks for what she missed.
    const back = await connect(draft, "carol");
    back.blocks.clear();
    for (const b of carolView) back.blocks.set(b.id, b);
    back.take(() => true);
    const synced = await ask(back, "sync", { sinceLsn: carolLsn });
    expect(synced.type).toBe("synced");
    expect(back.view()).toEqual(await serverBlocks(draft));
    expect(back.view().map((b) => [b.id, b.content])).toEqual([
      ["a", "a (draft)"],
      ["b", "b1 (draft)"],
      ["c", "new in draft"],
    ]);
    // An edit on her old copy of a (Bob changed it since) never overwrites Bob's text.
    const stale = await edit(back, { type: "update", blockId: "a", content: "carol's", baseLsn: carolLsn });
    expect(stale).toMatchObject({ type: "error", code: "STALE_EDIT" });
    expect((await serverBlocks(draft)).find((b) => b.id === "a")!.content).toBe("a (draft)");
    // From now on sync is exact again, and Bob's undo stack is whole.
    const now = back.lsn;
    const bob2 = await connect(draft, "bob");
    const undo = await ask(bob2, "undo");
    expect(undo.data).toMatchObject({ deleted: ["c"] });
    const later = await connect(draft, "dave");
    later.take(() => true);
    const exact = await ask(later, "sync", { sinceLsn: now });
    expect(exact.data).toMatchObject({ refreshed: false });
    expect(later.take(ofType("undo")).map((f) => f.data.deleted)).toEqual([["c"]]);
    alice.close();
    back.close();
    bob2.close();
    later.close();
  });
});
