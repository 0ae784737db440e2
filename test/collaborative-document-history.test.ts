import { describe, expect, it } from "vitest";
import { call, connect, docName, edit, ofType, post, serverBlocks } from "./document-helpers";

const pause = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("CollaborativeDocument: restore, branch and merge", () => {
  it("restores to a time (refresh to everyone, recorded in the log), then restores back", async () => {
    const doc = docName("restore");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await edit(alice, { type: "insert", blockId: "a", content: "first" });
    await edit(alice, { type: "insert", blockId: "b", parentId: "a", content: "child" });
    await pause();
    const t1 = Date.now();
    const atT1 = await serverBlocks(doc);
    await pause();
    await edit(bob, { type: "update", blockId: "a", content: "changed" });
    await edit(bob, { type: "delete", blockId: "b" });
    await edit(bob, { type: "insert", blockId: "c" });
    await pause();
    const t2 = Date.now();
    const atT2 = await serverBlocks(doc);
    await pause();

    const res = await post(`/documents/${doc}/restore`, { timestamp: t1 });
    expect(res.status).toBe(200);
    const restored = (await res.json()) as any;
    expect(restored).toMatchObject({ restoredTo: new Date(t1).toISOString() });
    expect(restored.changes).toBeGreaterThan(0);
    expect(await serverBlocks(doc)).toEqual(atT1);
    for (const client of [alice, bob]) {
      const refresh = await client.next(ofType("refresh"));
      expect(refresh.data.lsn).toBe(restored.lsn);
      expect(client.view()).toEqual(atT1);
    }
    const log = ((await (await call(`/documents/${doc}/history?limit=1`)).json()) as any).history;
    expect(log[0]).toMatchObject({ kind: "restore", userId: "admin", lsn: restored.lsn });

    // A client that was away across the restore is sent the whole document on sync.
    const synced = alice.received.find(ofType("init")).data.lsn;
    alice.send({ type: "sync", id: "s1", data: { sinceLsn: synced } });
    expect((await alice.next(ofType("synced"))).data).toMatchObject({ refreshed: true, lsn: restored.lsn });

    // Bob's delete was before the restore: undoing it now is a conflict, nothing overwritten.
    bob.send({ type: "undo", id: "u1", data: {} });
    expect((await bob.next(ofType("conflict"))).data).toMatchObject({ action: "undo" });
    expect(await serverBlocks(doc)).toEqual(atT1);

    // Restore back to just before the restore.
    await pause();
    const back = (await (await post(`/documents/${doc}/restore`, { timestamp: t2 })).json()) as any;
    expect(back.changes).toBeGreaterThan(0);
    expect(await serverBlocks(doc)).toEqual(atT2);
    await alice.next(ofType("refresh"));
    expect(alice.view()).toEqual(atT2);
    // Edits go on from there.
    expect((await edit(alice, { type: "insert", blockId: "d" })).type).toBe("ack");
  });

  it("refuses bad restores: a future time, a bad body, a non-admin", async () => {
    const doc = docName("restore-bad");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a" });
    for (const body of [{ timestamp: Date.now() + 60_000 }, { timestamp: "yesterday" }, {}]) {
      const res = await post(`/documents/${doc}/restore`, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe("VALIDATION_FAILED");
    }
    const form = await call(`/documents/${doc}/restore`, { method: "POST", body: "timestamp=1" });
    expect(form.status).toBe(415);
    expect((await serverBlocks(doc)).map((b) => b.id)).toEqual(["a"]);
  });

  it("branch, edit both sides, merge clean: the branch's blocks arrive as a refresh", async () => {
    const doc = docName("merge");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a", content: "a0" });
    await edit(alice, { type: "insert", blockId: "b", content: "b0" });
    const res = await post(`/documents/${doc}/branch`, { name: draft });
    expect(res.status).toBe(201);
    expect(((await res.json()) as any).name).toBe(draft);
    // The branch is a document of its own, with the blocks at the fork.
    expect(await serverBlocks(draft)).toEqual(await serverBlocks(doc));
    const bob = await connect(draft, "bob");
    expect(bob.view()).toEqual(await serverBlocks(doc));
    await edit(bob, { type: "update", blockId: "b", content: "b1 (draft)" });
    await edit(bob, { type: "insert", blockId: "c", content: "new in draft" });
    await edit(alice, { type: "update", blockId: "a", content: "a1 (main)" });
    const merged = await post(`/documents/${doc}/merge`, { branch: draft });
    expect(merged.status).toBe(200);
    const result = (await merged.json()) as any;
    expect(result).toMatchObject({ branch: draft, merged: true, conflicts: [] });
    const blocks = await serverBlocks(doc);
    expect(blocks.map((b) => [b.id, b.content])).toEqual([
      ["a", "a1 (main)"],
      ["b", "b1 (draft)"],
      ["c", "new in draft"],
    ]);
    await alice.next(ofType("refresh"));
    expect(alice.view()).toEqual(blocks);
    const log = ((await (await call(`/documents/${doc}/history?limit=1`)).json()) as any).history;
    expect(log[0]).toMatchObject({ kind: "merge", operation: { branch: draft } });
    // The same branch name again is refused.
    expect((await post(`/documents/${doc}/branch`, { name: draft })).status).toBe(409);
  });

  it("merge with conflicts: 409 MERGE_CONFLICT listing them, nothing written; theirs takes the branch's", async () => {
    const doc = docName("conflict");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a", content: "base" });
    await post(`/documents/${doc}/branch`, { name: draft });
    const bob = await connect(draft, "bob");
    await edit(bob, { type: "update", blockId: "a", content: "draft's" });
    await edit(alice, { type: "update", blockId: "a", content: "main's" });
    const before = await serverBlocks(doc);
    const res = await post(`/documents/${doc}/merge`, { branch: draft });
    expect(res.status).toBe(409);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe("MERGE_CONFLICT");
    expect(body.error.details.conflicts).toHaveLength(1);
    expect(body.error.details.conflicts[0]).toMatchObject({
      table: "blocks",
      key: { id: "a" },
      base: { content: JSON.stringify("base") },
      ours: { content: JSON.stringify("main's") },
      theirs: { content: JSON.stringify("draft's") },
    });
    expect(await serverBlocks(doc)).toEqual(before);
    expect(alice.received.filter(ofType("refresh"))).toEqual([]);
    expect((await post(`/documents/${doc}/merge`, { branch: draft, onConflict: "maybe" })).status).toBe(400);
    const theirs = (await (
      await post(`/documents/${doc}/merge`, { branch: draft, onConflict: "theirs" })
    ).json()) as any;
    expect(theirs.merged).toBe(true);
    expect(theirs.conflicts).toHaveLength(1);
    expect((await serverBlocks(doc)).find((b) => b.id === "a")!.content).toBe("draft's");
    await alice.next(ofType("refresh"));
    expect(alice.view()).toEqual(await serverBlocks(doc));
  });
});
