import { env, evictDurableObject, listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ask, call, connect, docName, edit, ofType, post, replyTo, serverBlocks } from "./document-helpers";

const historyCount = async (doc: string) =>
  ((await (await call(`/documents/${doc}/history?limit=1000`)).json()) as { history: unknown[] }).history
    .length;

describe("CollaborativeDocument: sockets and operations", () => {
  it("connects with init, applies the four operations, answers the sender with ack and the others with operation", async () => {
    const doc = docName("basic");
    const alice = await connect(doc, "alice");
    const init = alice.received.find(ofType("init"));
    expect(init.data).toMatchObject({
      blocks: [],
      lsn: 0,
      userId: "alice",
      role: "admin",
      page: 0,
      pages: 1,
    });
    expect(init.data.presence.map((p: any) => p.userId)).toEqual(["alice"]);
    const bob = await connect(doc, "bob");
    expect((await alice.next(ofType("presence"))).data).toMatchObject({
      action: "join",
      userId: "bob",
      userName: "BOB",
    });
    expect(bob.received.find(ofType("init")).data.role).toBe("editor");

    const ack = await edit(alice, { type: "insert", blockId: "b1", content: { text: "hello" } });
    expect(ack.type).toBe("ack");
    expect(ack.data.operation).toMatchObject({
      type: "insert",
      blockId: "b1",
      parentId: null,
      position: 1,
      blockType: "paragraph",
    });
    const seen = await bob.next(ofType("operation"));
    expect(seen.data).toMatchObject({
      type: "insert",
      blockId: "b1",
      userId: "alice",
      operationId: ack.data.operationId,
      lsn: ack.data.lsn,
    });
    expect(ack.data.lsn).toBeGreaterThan(0);

    await edit(bob, {
      type: "insert",
      blockId: "b2",
      parentId: "b1",
      blockType: "heading",
      content: "child",
    });
    await edit(alice, { type: "update", blockId: "b2", content: "child v2", properties: { bold: true } });
    await edit(bob, { type: "insert", blockId: "b3", position: 0.5 });
    await edit(alice, { type: "move", blockId: "b2", parentId: null, position: 3 });
    await edit(bob, { type: "delete", blockId: "b3" });
    // An update that changes nothing is answered, not logged.
    const noop = await edit(alice, { type: "update", blockId: "b2", content: "child v2" });
    expect(noop.data).toMatchObject({ operationId: null, noop: true });

    const marker = await edit(alice, { type: "insert", blockId: "marker" });
    await bob.next((f) => f.type === "operation" && f.data.operationId === marker.data.operationId);
    const server = await serverBlocks(doc);
    expect(server.map((b) => b.id)).toEqual(["b1", "b2", "marker"]);
    expect(server.find((b) => b.id === "b2")).toMatchObject({
      parentId: null,
      position: 3,
      type: "heading",
      content: "child v2",
      properties: { bold: true },
    });
    expect(alice.view()).toEqual(server);
    expect(bob.view()).toEqual(server);
    expect(await historyCount(doc)).toBe(7);
    alice.close();
    expect((await bob.next(ofType("presence"))).data).toEqual({ action: "leave", userId: "alice" });
  });

  it("three clients editing concurrently converge to the server's blocks", async () => {
    const doc = docName("converge");
    const clients = [await connect(doc, "u0"), await connect(doc, "u1"), await connect(doc, "u2")];
    await edit(clients[0], { type: "insert", blockId: "root" });
    // Each client fires 30 edits without waiting: inserts under each other's blocks, updates,
    // moves and deletes that race; some are refused (a parent deleted meanwhile), none half-applied.
    let rnd = 42;
    const random = (n: number) => {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      return rnd % n;
    };
    const ids = (i: number, k: number) => `c${i}-${k}`;
    const frames = clients.map((_, i) =>
      Array.from({ length: 30 }, (_, k) => {
        const other = ids(random(3), random(k + 1));
        switch (random(5)) {
          case 0:
            return { type: "update", blockId: other, content: `by ${i} #${k}` };
          case 1:
            return {
              type: "move",
              blockId: other,
              parentId: random(2) ? "root" : null,
              position: random(100) / 7,
            };
          case 2:
            return { type: "delete", blockId: ids(random(3), random(k + 1)) };
          default:
            return { type: "insert", blockId: ids(i, k), parentId: random(2) ? other : "root", content: k };
        }
      }),
    );
    const answers = clients.map((client, i) =>
      frames[i].map((data, k) => {
        const id = `c${i}-f${k}`;
        client.send({ type: "operation", id, data });
        return client.next(replyTo(id));
      }),
    );
    const replies = (await Promise.all(answers.map((list) => Promise.all(list)))).flat();
    expect(replies.filter((f) => f.type === "ack").length).toBeGreaterThan(20);
    expect(replies.filter((f) => f.type === "error").length).toBeGreaterThan(0);
    for (const f of replies.filter((r) => r.type === "error"))
      expect(["BLOCK_NOT_FOUND", "PARENT_NOT_FOUND", "INVALID_MOVE", "BLOCK_EXISTS"]).toContain(f.code);
    // A last edit every client must see: all earlier frames have arrived before it.
    const last = await edit(clients[0], { type: "insert", blockId: "last" });
    for (const client of clients.slice(1))
      await client.next((f) => f.type === "operation" && f.data.operationId === last.data.operationId);
    const server = await serverBlocks(doc);
    for (const client of clients) expect(client.view()).toEqual(server);
    // Every acknowledged edit is in the log exactly once, in the order the actor applied it.
    const log = ((await (await call(`/documents/${doc}/history?limit=1000`)).json()) as any).history;
    const acked = replies.filter((f) => f.type === "ack" && f.data.operationId !== null).length;
    expect(log.length).toBe(acked + 2);
    const lsns = log.map((e: any) => e.lsn).reverse();
    expect([...lsns].sort((a: number, b: number) => a - b)).toEqual(lsns);
    expect(new Set(lsns).size).toBe(lsns.length);
  });

  it("sync after a reconnect sends exactly the missed operations, then synced", async () => {
    const doc = docName("sync");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await edit(alice, { type: "insert", blockId: "a" });
    await bob.next(ofType("operation"));
    const seenLsn = bob.lsn;
    const seenBlocks = bob.view();
    bob.close();
    const missed = [];
    missed.push((await edit(alice, { type: "insert", blockId: "b" })).data.operationId);
    missed.push((await edit(alice, { type: "update", blockId: "a", content: "x" })).data.operationId);
    missed.push(
      (await edit(alice, { type: "move", blockId: "b", parentId: "a", position: 1 })).data.operationId,
    );
    missed.push((await edit(alice, { type: "insert", blockId: "c" })).data.operationId);
    missed.push((await ask(alice, "undo")).data.undoId);
    missed.push((await edit(alice, { type: "delete", blockId: "a" })).data.operationId);

    const again = await connect(doc, "bob");
    // The reconnecting client keeps what it had and asks for what it missed.
    again.blocks.clear();
    for (const b of seenBlocks) again.blocks.set(b.id, b);
    again.take(() => true);
    const synced = await ask(again, "sync", { sinceLsn: seenLsn });
    const frames = again.take((f) => f.type === "operation" || f.type === "undo");
    expect(frames.map((f) => (f.type === "undo" ? f.data.undoId : f.data.operationId))).toEqual(missed);
    expect(frames.map((f) => f.type)).toEqual([
      "operation",
      "operation",
      "operation",
      "operation",
      "undo",
      "operation",
    ]);
    expect(synced.data.refreshed).toBe(false);
    // Nothing but the missed frames came between the sync and its answer.
    const at = again.received.indexOf(synced);
    expect(again.received.slice(at - missed.length, at)).toEqual(frames);
    expect(synced.data.lsn).toBe(alice.lsn);
    expect(again.view()).toEqual(await serverBlocks(doc));
    // Nothing missed: nothing but synced.
    const count = again.received.length;
    const none = await ask(again, "sync", { sinceLsn: synced.data.lsn });
    expect(again.received.length).toBe(count + 1);
    expect(none.data).toMatchObject({ lsn: synced.data.lsn, refreshed: false });
    // An LSN the document never had: the whole document.
    const ahead = await ask(again, "sync", { sinceLsn: synced.data.lsn + 1000 });
    expect(ahead.data.refreshed).toBe(true);
    expect(again.received.at(-2).type).toBe("refresh");
  });

  it("undo and redo per user, broadcast to everyone; a later edit by someone else is a conflict", async () => {
    const doc = docName("undo");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    const inserted = await edit(alice, { type: "insert", blockId: "p", content: "v1" });
    const updated = await edit(alice, { type: "update", blockId: "p", content: "v2" });
    await edit(bob, { type: "insert", blockId: "q", content: "bob's" });

    const undone = await ask(alice, "undo");
    expect(undone.type).toBe("undo");
    expect(undone.data).toMatchObject({
      operationId: updated.data.operationId,
      userId: "alice",
      deleted: [],
    });
    expect(undone.data.blocks[0]).toMatchObject({ id: "p", content: "v1" });
    expect((await bob.next(ofType("undo"))).data.operationId).toBe(updated.data.operationId);
    expect((await serverBlocks(doc)).find((b) => b.id === "p")!.content).toBe("v1");

    // Bob's undo is his own: it reverts his insert, not Alice's edits.
    const bobUndo = await ask(bob, "undo");
    expect(bobUndo.data).toMatchObject({ deleted: ["q"], blocks: [] });
    await alice.next(ofType("undo"));

    const redone = await ask(alice, "redo");
    expect(redone.type).toBe("redo");
    expect(redone.data).toMatchObject({ operationId: updated.data.operationId });
    expect((await serverBlocks(doc)).find((b) => b.id === "p")!.content).toBe("v2");
    expect((await ask(alice, "redo")).code).toBe("NOTHING_TO_REDO");

    // Bob edits p after Alice: Alice's undo of her update would overwrite his work.
    await bob.next(ofType("redo"));
    await edit(bob, { type: "update", blockId: "p", content: "bob wrote this" });
    const conflict = await ask(alice, "undo");
    expect(conflict.type).toBe("conflict");
    expect(conflict.data).toMatchObject({
      action: "undo",
      operationId: updated.data.operationId,
      blockId: "p",
      conflictingUserId: "bob",
    });
    expect((await serverBlocks(doc)).find((b) => b.id === "p")!.content).toBe("bob wrote this");
    expect(bob.received.filter(ofType("conflict"))).toEqual([]);
    // The conflicting edit left Alice's stack: her next undo is her insert, which Bob's edit also touched.
    const second = await ask(alice, "undo");
    expect(second.type).toBe("conflict");
    expect(second.data.operationId).toBe(inserted.data.operationId);
    expect((await ask(alice, "undo")).code).toBe("NOTHING_TO_UNDO");

    // A new edit empties the redo stack.
    await edit(alice, { type: "insert", blockId: "r" });
    await ask(alice, "undo");
    await edit(alice, { type: "insert", blockId: "s" });
    expect((await ask(alice, "redo")).code).toBe("NOTHING_TO_REDO");

    // Undo of a delete brings the whole subtree back.
    await edit(alice, { type: "insert", blockId: "t", parentId: "s" });
    await edit(alice, { type: "insert", blockId: "u", parentId: "t" });
    const before = await serverBlocks(doc);
    await edit(alice, { type: "delete", blockId: "s" });
    expect((await serverBlocks(doc)).map((b) => b.id)).not.toContain("u");
    const back = await ask(alice, "undo");
    expect(back.data.blocks.map((b: any) => b.id)).toEqual(["s", "t", "u"]);
    expect(await serverBlocks(doc)).toEqual(before);
    const last = await edit(alice, { type: "insert", blockId: "end" });
    await bob.next((f) => f.type === "operation" && f.data.operationId === last.data.operationId);
    expect(alice.view()).toEqual(await serverBlocks(doc));
    expect(bob.view()).toEqual(await serverBlocks(doc));
  });

  it("a viewer reads and shows presence but every edit, undo and redo is refused, nothing written", async () => {
    const doc = docName("viewer");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a", content: "text" });
    const granted = await post(`/documents/${doc}/permissions`, { userId: "val", role: "viewer" });
    expect(granted.status).toBe(200);
    const val = await connect(doc, "val");
    expect(val.received.find(ofType("init")).data).toMatchObject({
      role: "viewer",
      blocks: [{ id: "a", content: "text" }],
    });
    const logBefore = await historyCount(doc);
    for (const data of [
      { type: "insert", blockId: "v" },
      { type: "update", blockId: "a", content: "mine" },
      { type: "move", blockId: "a", position: 9 },
      { type: "delete", blockId: "a" },
    ]) {
      const refused = await edit(val, data);
      expect(refused).toMatchObject({ type: "error", code: "READ_ONLY", data: { code: "READ_ONLY" } });
    }
    expect((await ask(val, "undo")).code).toBe("READ_ONLY");
    expect((await ask(val, "redo")).code).toBe("READ_ONLY");
    expect(await serverBlocks(doc)).toEqual(alice.view());
    expect(await historyCount(doc)).toBe(logBefore);
    val.send({ type: "presence", data: { cursorBlockId: "a", cursorOffset: 2 } });
    expect((await alice.next((f) => f.type === "presence" && f.data.action === "update")).data).toMatchObject(
      {
        userId: "val",
        cursorBlockId: "a",
        cursorOffset: 2,
      },
    );
    // Promoted to editor, the same socket may edit on its next frame.
    await post(`/documents/${doc}/permissions`, { userId: "val", role: "editor" });
    expect((await edit(val, { type: "insert", blockId: "v" })).type).toBe("ack");
  });

  it("malformed and refused frames get an error frame; nothing is written and the socket stays open", async () => {
    const doc = docName("malformed");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a" });
    await edit(alice, { type: "insert", blockId: "b", parentId: "a" });
    const before = await serverBlocks(doc);
    const logBefore = await historyCount(doc);
    const cases: [unknown, string][] = [
      ["not json", "INVALID_JSON"],
      [{ type: "nope", id: "m1" }, "VALIDATION_FAILED"],
      [{ type: "operation", id: "m2" }, "VALIDATION_FAILED"],
      [{ type: "operation", id: "m3", data: { type: "explode", blockId: "a" } }, "VALIDATION_FAILED"],
      [{ type: "operation", id: "m4", data: { type: "insert", blockId: "has space" } }, "VALIDATION_FAILED"],
      [{ type: "operation", id: "m5", data: { type: "update", blockId: "a" } }, "VALIDATION_FAILED"],
      [{ type: "operation", id: "m6", data: { type: "move", blockId: "a" } }, "VALIDATION_FAILED"],
      [
        { type: "operation", id: "m7", data: { type: "insert", blockId: "c", blockType: "video" } },
        "VALIDATION_FAILED",
      ],
      [{ type: "operation", id: "m8", data: { type: "insert", blockId: "a" } }, "BLOCK_EXISTS"],
      [
        { type: "operation", id: "m9", data: { type: "update", blockId: "zz", content: 1 } },
        "BLOCK_NOT_FOUND",
      ],
      [{ type: "operation", id: "m10", data: { type: "delete", blockId: "zz" } }, "BLOCK_NOT_FOUND"],
      [
        { type: "operation", id: "m11", data: { type: "insert", blockId: "c", parentId: "zz" } },
        "PARENT_NOT_FOUND",
      ],
      [
        { type: "operation", id: "m12", data: { type: "move", blockId: "a", parentId: "b", position: 1 } },
        "INVALID_MOVE",
      ],
      [
        { type: "operation", id: "m13", data: { type: "move", blockId: "a", parentId: "a", position: 1 } },
        "INVALID_MOVE",
      ],
      [
        { type: "operation", id: "m14", data: { type: "move", blockId: "a", parentId: "zz", position: 1 } },
        "PARENT_NOT_FOUND",
      ],
      [{ type: "sync", id: "m15", data: { sinceLsn: -1 } }, "VALIDATION_FAILED"],
      [{ type: "presence", id: "m16", data: { cursorOffset: "far" } }, "VALIDATION_FAILED"],
      [
        { type: "operation", id: "m17", data: { type: "move", blockId: "a", position: "Infinity" } },
        "VALIDATION_FAILED",
      ],
    ];
    for (const [sent, code] of cases) {
      alice.send(sent);
      const error = await alice.next(ofType("error"));
      expect({ sent, code: error.code }).toEqual({ sent, code });
      expect(error.data).toEqual({ code: error.code, message: error.message });
      if (typeof sent === "object") expect(error.replyTo).toBe((sent as { id: string }).id);
    }
    alice.ws.send(new Uint8Array([1, 2, 3]));
    expect((await alice.next(ofType("error"))).code).toBe("INVALID_MESSAGE");
    expect(await serverBlocks(doc)).toEqual(before);
    expect(await historyCount(doc)).toBe(logBefore);
    expect((await edit(alice, { type: "insert", blockId: "still-open" })).type).toBe("ack");
  });

  it("evictDurableObject mid-session: sockets keep working, state, roles and undo stacks intact", async () => {
    const doc = docName("evict");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await post(`/documents/${doc}/permissions`, { userId: "val", role: "viewer" });
    const val = await connect(doc, "val");
    await edit(alice, { type: "insert", blockId: "a", content: 1 });
    await edit(alice, { type: "update", blockId: "a", content: 2 });
    await evictDurableObject(env.COLLABORATIVE_DOCUMENT.getByName(doc));
    const after = await edit(bob, { type: "insert", blockId: "b" });
    expect(after.type).toBe("ack");
    expect((await alice.next((f) => f.type === "operation" && f.data.blockId === "b")).data.userId).toBe(
      "bob",
    );
    expect((await edit(val, { type: "insert", blockId: "v" })).code).toBe("READ_ONLY");
    const undo = await ask(alice, "undo");
    expect(undo.data.blocks[0]).toMatchObject({ id: "a", content: 1 });
    await bob.next(ofType("undo"));
    await val.next(ofType("undo"));
    const server = await serverBlocks(doc);
    expect(alice.view()).toEqual(server);
    expect(bob.view()).toEqual(server);
    expect(val.view()).toEqual(server);
  });

  it("presence: join and leave once per user, updates coalesced per user, stale rows swept", async () => {
    const doc = docName("presence");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await alice.next((f) => f.type === "presence" && f.data.action === "join");
    const bob2 = await connect(doc, "bob"); // a second tab: no second join
    for (let i = 0; i < 20; i++)
      bob.send({ type: "presence", data: { cursorBlockId: "x", cursorOffset: i } });
    const update = await alice.next(
      (f) => f.type === "presence" && f.data.action === "update" && f.data.cursorOffset === 19,
    );
    expect(update.data).toMatchObject({ userId: "bob", userName: "BOB", cursorBlockId: "x" });
    await new Promise((r) => setTimeout(r, 120));
    const updates = alice.received.filter((f) => f.type === "presence" && f.data.action === "update");
    // 20 updates sent at once: coalesced (a loaded machine may split them over a few windows).
    expect(updates.length).toBeLessThanOrEqual(10);
    expect(alice.received.filter((f) => f.type === "presence" && f.data.action === "join")).toHaveLength(1);
    expect(bob.received.filter((f) => f.type === "presence" && f.data.action === "update")).toEqual([]);
    const listed = (await (await call(`/documents/${doc}/presence`)).json()) as any;
    expect(listed.presence.find((p: any) => p.userId === "bob")).toMatchObject({ cursorOffset: 19 });
    bob.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(alice.received.filter((f) => f.type === "presence" && f.data.action === "leave")).toEqual([]);
    bob2.close();
    expect((await alice.next((f) => f.type === "presence" && f.data.action === "leave")).data.userId).toBe(
      "bob",
    );
    // A row left behind (no close event: a crash) is cleared by the sweep.
    const stub = env.COLLABORATIVE_DOCUMENT.getByName(doc);
    await runInDurableObject(stub, (actor) => {
      actor.query("INSERT INTO presence (user_id, user_name, last_seen) VALUES ('ghost', 'Ghost', 0)");
    });
    expect(await stub.sweepPresence()).toEqual({ cleared: 1 });
    expect((await alice.next((f) => f.type === "presence" && f.data.action === "leave")).data.userId).toBe(
      "ghost",
    );
  });

  it("init of a 10,000-block document comes in pages within the message limit", async () => {
    const doc = docName("large");
    const alice = await connect(doc, "alice");
    const stub = env.COLLABORATIVE_DOCUMENT.getByName(doc);
    await runInDurableObject(stub, (actor) => {
      actor.transaction(() => {
        for (let i = 0; i < 10_000; i++)
          actor.query(
            "INSERT INTO blocks (id, parent_id, type, content, properties, position, created_by, created_at, updated_at) VALUES (?, NULL, 'paragraph', ?, NULL, ?, 'alice', 0, 0)",
            [`blk-${i}`, JSON.stringify({ text: `paragraph ${i} `.repeat(8) }), i],
          );
      });
    });
    alice.close();
    const bob = await connect(doc, "bob");
    const pages = bob.received.filter(ofType("init"));
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) expect(JSON.stringify(page).length).toBeLessThan(1024 * 1024);
    expect(pages.map((p) => p.data.page)).toEqual(pages.map((_, i) => i));
    expect(bob.blocks.size).toBe(10_000);
    expect((await serverBlocks(doc)).length).toBe(10_000);
  });

  it("refuses a socket without a user (400 before the upgrade); lookups of unknown documents create nothing", async () => {
    const doc = docName("unknown");
    const res = await call(`/documents/${doc}/ws`, { headers: { Upgrade: "websocket" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe("VALIDATION_FAILED");
    for (const [path, init] of [
      [`/documents/${doc}/blocks`, undefined],
      [`/documents/${doc}/history`, undefined],
      [
        `/documents/${doc}/restore`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ timestamp: 0 }),
        },
      ],
      [
        `/documents/${doc}/merge`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ branch: "x" }),
        },
      ],
      [`/documents/${doc}/presence`, undefined],
      [
        `/documents/${doc}/branch`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: `${doc}-b` }),
        },
      ],
      [
        `/documents/${doc}/permissions`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId: "x", role: "viewer" }),
        },
      ],
    ] as const) {
      const r = await call(path, init);
      expect(r.status).toBe(404);
      expect(((await r.json()) as any).error.code).toBe("DOCUMENT_NOT_FOUND");
    }
    expect((await call(`/documents/${doc}/ws?userId=a`)).status).toBe(426);
    const ids = (await listDurableObjectIds(env.COLLABORATIVE_DOCUMENT)).map((id) => id.toString());
    expect(ids).not.toContain(env.COLLABORATIVE_DOCUMENT.idFromName(doc).toString());
    expect(ids).not.toContain(env.COLLABORATIVE_DOCUMENT.idFromName(`${doc}-b`).toString());
    expect((await call(`/documents/${doc}/history?limit=0`)).status).toBe(400);
  });
});
