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

describe("CollaborativeDocument: a change sent again with its opId is not applied again", () => {
  it("a retried edit, undo or conflict answers as the first time (duplicate), nothing applied twice", async () => {
    const doc = docName("retry");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    const send = (client: typeof alice, type: string, opId: string, data: unknown = {}) =>
      ask(client, type, data, { opId });
    const first = await send(alice, "operation", "op-1", { type: "insert", blockId: "a", content: "v1" });
    expect(first.type).toBe("ack");
    await send(alice, "operation", "op-2", { type: "update", blockId: "a", content: "v2" });
    await send(alice, "operation", "op-3", { type: "insert", blockId: "b" });
    // The answer to op-1 was lost: the client sends it again, on a new socket after a reconnect.
    alice.close();
    const again = await connect(doc, "alice");
    const retried = await send(again, "operation", "op-1", { type: "insert", blockId: "a", content: "v1" });
    expect(retried).toMatchObject({
      type: "ack",
      data: { opId: "op-1", operationId: first.data.operationId, lsn: first.data.lsn, duplicate: true },
    });
    // An undo sent twice undoes once: insert b, not the update of a too.
    const undo = await send(again, "undo", "op-4");
    expect(undo.data).toMatchObject({ deleted: ["b"] });
    const undoAgain = await send(again, "undo", "op-4");
    expect(undoAgain).toMatchObject({
      type: "ack",
      data: { opId: "op-4", operationId: undo.data.operationId, undoId: undo.data.undoId, duplicate: true },
    });
    expect((await serverBlocks(doc)).map((b) => [b.id, b.content])).toEqual([["a", "v2"]]);
    // A refused undo (Bob wrote since) sent again is the same refusal: the edit before it stays.
    await edit(bob, { type: "insert", blockId: "c", parentId: "a" });
    await edit(bob, { type: "update", blockId: "a", content: "bob's" });
    const conflict = await send(again, "undo", "op-5");
    expect(conflict.type).toBe("conflict");
    const conflictAgain = await send(again, "undo", "op-5");
    expect(conflictAgain).toMatchObject({
      type: "conflict",
      data: { ...conflict.data, id: conflictAgain.data.id, duplicate: true },
    });
    // A refused edit is not remembered: sent again once possible, it applies.
    expect(
      (await send(again, "operation", "op-6", { type: "insert", blockId: "d", parentId: "e" })).code,
    ).toBe("PARENT_NOT_FOUND");
    await edit(bob, { type: "insert", blockId: "e" });
    expect(
      (await send(again, "operation", "op-6", { type: "insert", blockId: "d", parentId: "e" })).type,
    ).toBe("ack");
    // Another user's opIds are their own.
    expect(
      (await send(bob, "operation", "op-1", { type: "insert", blockId: "f" })).data.duplicate,
    ).toBeUndefined();
    const log = ((await (await call(`/documents/${doc}/history?limit=1000`)).json()) as any).history;
    expect(log.map((e: any) => `${e.userId}:${e.kind}:${e.blockId}`).reverse()).toEqual([
      "alice:edit:a",
      "alice:edit:a",
      "alice:edit:b",
      "alice:undo:b",
      "bob:edit:c",
      "bob:edit:a",
      "bob:edit:e",
      "alice:edit:d",
      "bob:edit:f",
    ]);
    // Bad opIds are refused like any bad field.
    expect((await send(again, "operation", "", { type: "insert", blockId: "g" })).code).toBe(
      "VALIDATION_FAILED",
    );
    expect((await send(again, "undo", "x".repeat(129))).code).toBe("VALIDATION_FAILED");
    again.close();
    bob.close();
  });
});

describe("CollaborativeDocument: an edit made on a stale copy of a block can ask not to overwrite", () => {
  it("an update, move or delete with baseLsn is refused (STALE_EDIT) when someone else changed the block since", async () => {
    const doc = docName("stale");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await edit(alice, { type: "insert", blockId: "p", content: "draft" });
    await edit(alice, { type: "insert", blockId: "q", parentId: "p", content: "child" });
    await bob.next((f) => f.type === "operation" && f.data.blockId === "q");
    const base = bob.lsn;
    // Alice types in p; Bob, who has not seen it yet, types in p from the same base.
    await edit(alice, { type: "update", blockId: "p", content: "alice's sentence" });
    const stale = await edit(bob, { type: "update", blockId: "p", content: "bob's sentence", baseLsn: base });
    expect(stale).toMatchObject({ type: "error", code: "STALE_EDIT" });
    expect(stale.message).toContain("alice");
    for (const data of [
      { type: "move", blockId: "p", position: 7, baseLsn: base },
      { type: "delete", blockId: "p", baseLsn: base },
    ])
      expect((await edit(bob, data)).code).toBe("STALE_EDIT");
    // A delete would remove a child someone else wrote in since the base.
    await edit(alice, { type: "update", blockId: "q", content: "alice's child" });
    const now = (await edit(bob, { type: "insert", blockId: "r" })).data.lsn;
    await edit(alice, { type: "update", blockId: "q", content: "alice's child, again" });
    expect((await edit(bob, { type: "delete", blockId: "p", baseLsn: now })).code).toBe("STALE_EDIT");
    expect((await serverBlocks(doc)).map((b) => [b.id, b.content])).toEqual([
      ["p", "alice's sentence"],
      ["q", "alice's child, again"],
      ["r", null],
    ]);
    // From an up-to-date base, or on a block only he changed since, Bob's edits apply.
    await bob.next((f) => f.type === "operation" && f.data.content === "alice's child, again");
    const fresh = bob.lsn;
    expect((await edit(bob, { type: "update", blockId: "p", content: "bob's", baseLsn: fresh })).type).toBe(
      "ack",
    );
    expect((await edit(bob, { type: "update", blockId: "p", content: "bob's 2", baseLsn: fresh })).type).toBe(
      "ack",
    );
    expect((await edit(bob, { type: "update", blockId: "r", content: "r", baseLsn: 0 })).type).toBe("ack");
    // Without baseLsn the later edit wins, as documented.
    expect((await edit(alice, { type: "update", blockId: "p", content: "alice wins" })).type).toBe("ack");
    expect((await edit(bob, { type: "update", blockId: "s", content: 1, baseLsn: -1 })).code).toBe(
      "VALIDATION_FAILED",
    );
    alice.close();
    bob.close();
  });
});

describe("CollaborativeDocument: a merge never makes a block its own ancestor", () => {
  it("moves on both sides that would form a cycle are a conflict under every policy; nothing written", async () => {
    const doc = docName("merge-cycle");
    const draft = `${doc}-draft`;
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "A", content: "A" });
    await edit(alice, { type: "insert", blockId: "B", content: "B" });
    await edit(alice, { type: "insert", blockId: "C", parentId: "B", content: "C" });
    expect((await post(`/documents/${doc}/branch`, { name: draft })).status).toBe(201);
    const bob = await connect(draft, "bob");
    // On the branch A goes under B; here B goes under A: each tree is fine, both together a loop.
    expect((await edit(bob, { type: "move", blockId: "A", parentId: "B", position: 1 })).type).toBe("ack");
    expect((await edit(alice, { type: "move", blockId: "B", parentId: "A", position: 1 })).type).toBe("ack");
    const before = await serverBlocks(doc);
    for (const onConflict of ["fail", "ours", "theirs"]) {
      const res = await post(`/documents/${doc}/merge`, { branch: draft, onConflict });
      const body = (await res.json()) as any;
      expect({ onConflict, status: res.status, code: body.error?.code }).toEqual({
        onConflict,
        status: 409,
        code: "MERGE_CONFLICT",
      });
      expect(body.error.details.conflicts).toContainEqual(
        expect.objectContaining({ table: "blocks", key: { id: "A" }, cycle: true }),
      );
      expect(await serverBlocks(doc)).toEqual(before);
    }
    expect(before.map((b) => b.id)).toEqual(["A", "B", "C"]);
    // The document is whole: every block is listed and a delete of the subtree works.
    expect((await edit(alice, { type: "delete", blockId: "A" })).type).toBe("ack");
    expect(await serverBlocks(doc)).toEqual([]);
    alice.close();
    bob.close();
  });
});

describe("CollaborativeDocument: a large document reads whole over HTTP", () => {
  it("GET /blocks of a document past the 32 MiB of one RPC answer returns every block", async () => {
    const doc = docName("large-http");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "first", content: "first" });
    const stub = env.COLLABORATIVE_DOCUMENT.getByName(doc);
    await runInDurableObject(stub, (actor) => {
      actor.transaction(() => {
        for (let i = 0; i < 9000; i++)
          actor.query(
            "INSERT INTO blocks (id, parent_id, type, content, properties, position, created_by, created_at, updated_at) VALUES (?, NULL, 'paragraph', ?, NULL, ?, 'alice', 0, 0)",
            [`blk-${i}`, JSON.stringify(`${i} `.padEnd(4000, "y")), i + 2],
          );
      });
    });
    const res = await call(`/documents/${doc}/blocks`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as { blocks: { id: string; content: string }[]; lsn: number };
    expect(body.blocks.length).toBe(9001);
    expect(body.blocks[0]).toMatchObject({ id: "first", content: "first" });
    expect(body.blocks.at(-1)).toMatchObject({ id: "blk-8999" });
    expect(body.lsn).toBe(9001); // the insert and the 9,000 rows written inside, each recorded
    // A small one reads the same as before.
    const small = docName("small-http");
    const bob = await connect(small, "bob");
    expect(await (await call(`/documents/${small}/blocks`)).json()).toEqual({ blocks: [], lsn: 0 });
    expect((await call(`/documents/${small}-none/blocks`)).status).toBe(404);
    alice.close();
    bob.close();
  });
});

describe("CollaborativeDocument: the history route pages by size too", () => {
  it("a page of large entries stays within one RPC answer; next pages back through every entry", async () => {
    const doc = docName("large-history");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "big" });
    // Each update logs the block before and after and the operation: ~720 KB an entry.
    for (let i = 0; i < 55; i++)
      expect(
        (await edit(alice, { type: "update", blockId: "big", content: `${i}`.padEnd(240_000, "z") })).type,
      ).toBe("ack");
    const seen: number[] = [];
    let before: number | null = null;
    do {
      const res = await call(`/documents/${doc}/history${before ? `?before=${before}` : ""}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { history: { id: number }[]; next: number | null };
      expect(body.history.length).toBeGreaterThan(0);
      seen.push(...body.history.map((e) => e.id));
      before = body.next ?? null;
    } while (before !== null);
    expect(seen).toEqual(Array.from({ length: 56 }, (_, i) => 56 - i));
    // Small entries: one page holds the limit, and next says whether older ones remain.
    const small = (await (await call(`/documents/${doc}/history?limit=1&before=2`)).json()) as any;
    expect(small).toMatchObject({ history: [{ id: 1 }], next: null });
    alice.close();
  });
});

describe("CollaborativeDocument: concurrent sockets retrying every change", () => {
  it("each change applies exactly once, none is lost, and the document is what the changes say", async () => {
    const doc = docName("retry-storm");
    const users = ["u0", "u1", "u2", "u3"];
    const tabs = [];
    for (const user of users) tabs.push([await connect(doc, user), await connect(doc, user)]);
    // Each user's first tab inserts 6 blocks and updates each 3 times, without waiting; every frame
    // is sent twice with its opId, the copy on the user's other tab (a retry after a reconnect).
    const answers: Promise<any>[] = [];
    const expected = new Map<string, string>();
    let opIds = 0;
    tabs.forEach(([first, second], u) => {
      const frames: { opId: string; data: Record<string, unknown> }[] = [];
      for (let b = 0; b < 6; b++) {
        const blockId = `${users[u]}-b${b}`;
        frames.push({ opId: `${users[u]}-i${b}`, data: { type: "insert", blockId, content: "new" } });
        for (let v = 0; v < 3; v++) {
          const content = `${blockId} v${v}`;
          frames.push({ opId: `${users[u]}-u${b}-${v}`, data: { type: "update", blockId, content } });
          expected.set(blockId, content);
        }
      }
      for (const { opId, data } of frames) {
        opIds++;
        answers.push(ask(first, "operation", data, { opId }).then((f) => ({ opId, f })));
        answers.push(ask(second, "operation", data, { opId }).then((f) => ({ opId, f })));
      }
    });
    const replies = await Promise.all(answers);
    const byOpId = new Map<string, any[]>();
    for (const { opId, f } of replies) byOpId.set(opId, [...(byOpId.get(opId) ?? []), f]);
    // A copy may arrive before the first on the other tab: one of the two applied it, not both.
    for (const [opId, pair] of byOpId) {
      const applied = pair.filter((f) => f.type === "ack" && !f.data.duplicate);
      const dup = pair.filter((f) => f.type === "ack" && f.data.duplicate);
      const refused = pair.filter((f) => f.type === "error");
      // Applied once and answered duplicate once; or (an update whose copy overtook the insert on
      // the other tab) refused as BLOCK_NOT_FOUND, not remembered, and applied by the other copy.
      expect({ opId, applied: applied.length, dup: dup.length + refused.length }).toEqual({
        opId,
        applied: 1,
        dup: 1,
      });
      for (const f of refused) expect(f.code).toBe("BLOCK_NOT_FOUND");
      if (applied.length === 1 && dup.length === 1)
        expect(dup[0].data.operationId).toBe(applied[0].data.operationId);
    }
    const blocks = await serverBlocks(doc);
    expect(blocks.length).toBe(24);
    const log = ((await (await call(`/documents/${doc}/history?limit=1000`)).json()) as any).history;
    const appliedCount = replies.filter(
      ({ f }) => f.type === "ack" && !f.data.duplicate && f.data.operationId,
    );
    expect(log.length).toBe(appliedCount.length);
    expect(new Set(appliedCount.map(({ opId }) => opId)).size).toBe(appliedCount.length);
    // Every block holds the last update sent for it unless that one was refused on both tabs.
    for (const b of blocks) {
      const last = log.find((e: any) => e.blockId === b.id);
      expect(b.content).toBe(last.operation.content ?? null);
      if (byOpId.get(`${b.id.split("-")[0]}-u${b.id.split("-b")[1]}-2`)!.some((f) => f.type === "ack"))
        expect(b.content).toBe(expected.get(b.id));
    }
    expect(opIds).toBe(96);
    for (const pair of tabs) for (const tab of pair) tab.close();
  });
});
