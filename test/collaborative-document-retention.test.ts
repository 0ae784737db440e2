// CollaborativeDocument keeps a bounded operation log and bounded opId answers (client_ops), pruned
// on a schedule, without breaking sync, baseLsn checks or retries inside the retention window.
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ask, call, connect, docName, edit, ofType, post, serverBlocks } from "./document-helpers";

const stubOf = (doc: string) => env.COLLABORATIVE_DOCUMENT.getByName(doc);
const count = (doc: string, table: string) =>
  runInDurableObject(
    stubOf(doc),
    (actor) => actor.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)[0].n,
  );
/** Run the document's prune task now, through its alarm, as the schedule would. */
async function runPruneSchedule(doc: string): Promise<void> {
  await runInDurableObject(stubOf(doc), (actor) => {
    expect(actor.schedule.get("prune-log")).toMatchObject({ method: "pruneLog" });
    actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'prune-log'", [Date.now() - 1]);
  });
  expect(await runDurableObjectAlarm(stubOf(doc))).toBe(true);
}

describe("CollaborativeDocument: retention of the operation log and of opId answers", () => {
  it("prunes on the schedule; a sync from before what is kept refreshes, a baseLsn from before it is STALE_EDIT", async () => {
    const doc = docName("retention");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    const res = await post(`/documents/${doc}/retention`, { maxLogEntries: 5 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ retention: { log: 30 * 86_400_000, maxLogEntries: 5 } });
    for (const body of [{ log: "soon" }, { maxLogEntries: 0 }, { clientOps: -1 }, { other: 1 }])
      expect((await post(`/documents/${doc}/retention`, body)).status).toBe(400);

    await edit(alice, { type: "insert", blockId: "a", content: "a0" });
    await edit(alice, { type: "insert", blockId: "b", content: "b0" });
    await edit(alice, { type: "insert", blockId: "c", content: "c0" });
    await bob.next((f) => f.type === "operation" && f.data.blockId === "c");
    const early = bob.lsn; // Bob goes away here, holding a and b.
    const earlyView = bob.view();
    bob.close();
    // Alice changes c once while Bob is away: the only change to c, soon pruned.
    await edit(alice, { type: "update", blockId: "c", content: "alice's c" });
    const lsns: number[] = [];
    for (let i = 0; i < 10; i++)
      lsns.push(
        (await edit(alice, { type: "update", blockId: i % 2 ? "a" : "b", content: `v${i}` })).data.lsn,
      );
    expect(await count(doc, "operations")).toBe(14);

    await runPruneSchedule(doc);
    expect(await count(doc, "operations")).toBe(5);
    const history = ((await (await call(`/documents/${doc}/history`)).json()) as any).history;
    expect(history.map((e: any) => e.lsn)).toEqual(lsns.slice(5).reverse());

    // Bob's copy is older than the log kept: he is told to reload, and gets the whole document.
    const back = await connect(doc, "bob");
    back.blocks.clear();
    for (const b of earlyView) back.blocks.set(b.id, b);
    back.take(() => true);
    const synced = await ask(back, "sync", { sinceLsn: early });
    expect(synced.data).toMatchObject({ refreshed: true, reason: "log_pruned", lsn: lsns[9] });
    expect(back.take(ofType("operation"))).toEqual([]);
    expect(back.view()).toEqual(await serverBlocks(doc));
    // From an LSN whose later entries are all kept: exactly those, no refresh.
    const carol = await connect(doc, "carol");
    carol.take(() => true);
    const partial = await ask(carol, "sync", { sinceLsn: lsns[6] });
    expect(partial.data).toMatchObject({ refreshed: false });
    expect(carol.take(ofType("operation")).map((f) => f.data.lsn)).toEqual(lsns.slice(7));
    // Alice's undo stack reaches back as far as the log kept: her 5 newest updates, then nothing.
    let undone = 0;
    let lastLsn = 0;
    let answer = await ask(alice, "undo");
    for (; answer.type === "undo"; answer = await ask(alice, "undo")) {
      undone++;
      lastLsn = answer.data.lsn;
    }
    expect({ undone, code: answer.code }).toEqual({ undone: 5, code: "NOTHING_TO_UNDO" });
    await back.next((f) => f.type === "undo" && f.data.lsn === lastLsn);
    // An edit made on a copy older than the kept log cannot be checked: refused, nothing written.
    const stale = await edit(back, { type: "update", blockId: "c", content: "bob's", baseLsn: early });
    expect(stale).toMatchObject({ type: "error", code: "STALE_EDIT" });
    expect((await serverBlocks(doc)).find((b) => b.id === "c")!.content).toBe("alice's c");
    expect(
      (await edit(back, { type: "update", blockId: "a", content: "bob's", baseLsn: back.lsn })).type,
    ).toBe("ack");
    alice.close();
    back.close();
    carol.close();
  });

  it("an opId answered inside the retention window keeps its first answer, even once its log entry is pruned", async () => {
    const doc = docName("retention-ops");
    const alice = await connect(doc, "alice");
    expect((await post(`/documents/${doc}/retention`, { maxLogEntries: 2, clientOps: "1s" })).status).toBe(
      200,
    );
    const old = await ask(alice, "operation", { type: "insert", blockId: "old" }, { opId: "op-old" });
    expect(old.type).toBe("ack");
    await new Promise((r) => setTimeout(r, 1100));
    const first = await ask(alice, "operation", { type: "insert", blockId: "x" }, { opId: "op-x" });
    for (let i = 0; i < 3; i++) await edit(alice, { type: "update", blockId: "x", content: i });
    await runPruneSchedule(doc);
    // op-x's log entry is gone (only 2 kept), its answer is not: retried, it is the same answer.
    expect(await count(doc, "operations")).toBe(2);
    const retried = await ask(alice, "operation", { type: "insert", blockId: "x" }, { opId: "op-x" });
    expect(retried).toMatchObject({
      type: "ack",
      data: { duplicate: true, operationId: first.data.operationId, lsn: first.data.lsn },
    });
    // op-old was answered more than 1 s before the prune: forgotten (a retry is tried again).
    const ops = await runInDurableObject(stubOf(doc), (actor) =>
      actor.query<{ op_id: string }>("SELECT op_id FROM client_ops ORDER BY op_id").map((r) => r.op_id),
    );
    expect(ops).toEqual(["op-x"]);
    // The settings and the floor survive an eviction; the schedule is there after a wake.
    await evictDurableObject(stubOf(doc));
    const again = await post(`/documents/${doc}/retention`, {});
    expect(await again.json()).toMatchObject({ retention: { maxLogEntries: 2, clientOps: 1000 } });
    await runPruneSchedule(doc);
    alice.close();
  });

  it("a prune with more to do than one run continues in another run", async () => {
    const doc = docName("retention-more");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "a" });
    expect((await post(`/documents/${doc}/retention`, { maxLogEntries: 1 })).status).toBe(200);
    // 25,000 older entries (more than the 20,000 one run deletes), written as the log writes them.
    await runInDurableObject(stubOf(doc), (actor) => {
      actor.query(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
         INSERT INTO operations (id, user_id, block_id, kind, op_type, op_data, timestamp, lsn, state)
         SELECT -i, 'alice', 'a', 'edit', 'update', '{}', 0, 0, 'dropped' FROM n`,
      );
    });
    expect(await count(doc, "operations")).toBe(25_001);
    await runPruneSchedule(doc);
    expect(await count(doc, "operations")).toBe(5_001);
    const more = await runInDurableObject(stubOf(doc), (actor) => actor.schedule.get("prune-log-more"));
    expect(more).toMatchObject({ method: "pruneLog" });
    await runInDurableObject(stubOf(doc), (actor) => {
      actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'prune-log-more'", [Date.now() - 1]);
    });
    expect(await runDurableObjectAlarm(stubOf(doc))).toBe(true);
    expect(await count(doc, "operations")).toBe(1);
    expect(
      await runInDurableObject(stubOf(doc), (actor) => actor.schedule.get("prune-log-more")),
    ).toBeUndefined();
    alice.close();
  });
});
