import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { HistoryActor } from "./fixtures/history-actors";
import { freshHistory, inside } from "./history-helpers";

type Frame = any;

/** A real WebSocket client of a history actor, collecting the frames it receives. */
async function connect(stub: DurableObjectStub<HistoryActor>, id: string, topics: string) {
  const params = new URLSearchParams({ _pk: id, userId: id, topics });
  const res = await stub.fetch(`http://actor/ws?${params}`, { headers: { Upgrade: "websocket" } });
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status}`);
  const ws = res.webSocket!;
  ws.accept();
  const frames: Frame[] = [];
  ws.addEventListener("message", (event: MessageEvent) => frames.push(JSON.parse(String(event.data))));
  const changes = () => frames.filter((f) => f.type === "changes");
  return {
    ws,
    frames,
    changes,
    /** Wait until `n` change frames arrived. */
    waitFor: (n: number) =>
      vi.waitFor(
        () => {
          if (changes().length < n) throw new Error(`${id}: ${changes().length} of ${n} change frames`);
          return changes();
        },
        { timeout: 5_000, interval: 10 },
      ),
  };
}

describe("live subscribers over WebSocket", () => {
  it("receive the changes of their table after commit, one frame per table and transaction", async () => {
    const stub = freshHistory("live");
    const items = await connect(stub, "items-watcher", "changes:items");
    const all = await connect(stub, "all-watcher", "changes:*");
    const none = await connect(stub, "other", "news");
    await inside(stub, (actor) => {
      actor.transaction(
        () => {
          actor.run("INSERT INTO items (id, name, qty, data) VALUES (1, 'a', 1, x'0aff')");
          actor.run("INSERT INTO pairs (a, b) VALUES ('p', 1)");
        },
        { actor: "alice" },
      );
    });
    await stub.setQty(1, 5);
    const got = await items.waitFor(2);
    expect(got.map((f) => [f.table, f.changes.map((c: Frame) => [c.op, c.key, c.actor])])).toEqual([
      ["items", [["insert", { id: 1 }, "alice"]]],
      ["items", [["update", { id: 1 }, null]]],
    ]);
    expect(got[0].changes[0].after.data).toEqual({ $b: "0aff" });
    expect(got[1].changes[0].changed).toEqual(["qty"]);
    const everything = await all.waitFor(3);
    expect(everything.map((f) => f.table).sort()).toEqual(["items", "items", "pairs"]);
    // Frames carry the LSN to resume from with changes().
    expect(everything.at(-1).nextLsn).toBe(4);
    expect(none.changes()).toEqual([]);
    // A rolled-back transaction pushes nothing.
    await inside(stub, (actor) => {
      try {
        actor.transaction(() => {
          actor.run("UPDATE items SET qty = 99");
          throw new Error("no");
        });
      } catch {}
    });
    await stub.setQty(1, 6);
    const after = await items.waitFor(3);
    expect(after[2].changes.map((c: Frame) => c.after.qty)).toEqual([6]);
    for (const c of [items, all, none]) c.ws.close();
  });
});

describe("retention on a schedule", () => {
  it("is decided at the first captured change: untracked writes never schedule it, the next captured one does", async () => {
    const stub = freshHistory("armed");
    const task = () => inside(stub, (actor) => actor.schedule.get("dosql:history:retention") ?? null);
    // `events` is append-only (not captured): many writes, in and out of transactions, arm nothing.
    await inside(stub, (actor) => {
      for (let i = 1; i <= 20; i++) actor.run("INSERT INTO events (id, kind, at) VALUES (?, 'k', ?)", [i, i]);
      actor.transaction(() => actor.run("INSERT INTO events (id, kind, at) VALUES (21, 'k', 21)"));
    });
    expect(await task()).toBeNull();
    expect((await stub.stats()).history).toMatchObject({ changes: 0 });
    // The first captured change, in a transaction that also writes an untracked table.
    await inside(stub, (actor) =>
      actor.transaction(() => {
        actor.run("INSERT INTO events (id, kind, at) VALUES (22, 'k', 22)");
        actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'x', 0)");
      }),
    );
    expect(await task()).toMatchObject({ method: "pruneHistory" });
    // A raw write straight on storage is captured too: a write through the actor to an untracked
    // table does not close it (it needs no close), the next write that may capture does.
    const raw = freshHistory("armed-raw");
    const rawTask = () => inside(raw, (actor) => actor.schedule.get("dosql:history:retention") ?? null);
    await inside(raw, (actor, state) => {
      actor.query("SELECT 1");
      state.storage.sql.exec("INSERT INTO items (id, name, qty) VALUES (1, 'raw', 0)");
      actor.run("INSERT INTO events (id, kind, at) VALUES (1, 'k', 1)");
    });
    expect(await rawTask()).toBeNull();
    await inside(raw, (actor) => actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'x', 0)"));
    expect(await rawTask()).toMatchObject({ method: "pruneHistory" });
    expect(await inside(raw, (actor) => actor.query("SELECT lsn, tx, mark FROM _dosql_wal"))).toEqual([
      { lsn: 1, tx: 1, mark: -1 },
      { lsn: 2, tx: 1, mark: null },
    ]);
  });

  it("is scheduled once per actor (by key) and prunes when the alarm runs it", async () => {
    const stub = freshHistory("scheduled");
    // The fixture keeps at most 1,000 changes: make 1,200.
    await inside(stub, (actor) => {
      for (let i = 1; i <= 600; i++)
        actor.transaction(() => {
          actor.run("INSERT INTO items (id, name, qty) VALUES (?, 'x', 0)", [i]);
          actor.run("UPDATE items SET qty = 1 WHERE id = ?", [i]);
        });
    });
    const task = await inside(stub, (actor) => actor.schedule.get("dosql:history:retention"));
    expect(task).toMatchObject({ method: "pruneHistory", key: "dosql:history:retention" });
    expect((await inside(stub, (actor) => actor.schedule.list())).length).toBe(1);
    expect((await stub.stats()).history).toEqual({
      lastLsn: 1200,
      floorLsn: 1,
      changes: 1200,
      subscribers: 0,
    });
    // Make it due now and let the real alarm run it.
    await inside(stub, async (actor, state) => {
      actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = 'dosql:history:retention'", [
        Date.now() - 1,
      ]);
      await state.storage.setAlarm(Date.now() + 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.stats()).history).toEqual({
      lastLsn: 1200,
      floorLsn: 201,
      changes: 1000,
      subscribers: 0,
    });
    const after = await inside(stub, (actor) => actor.schedule.get("dosql:history:retention"));
    expect(after?.runs).toBe(1);
    expect(after?.status).toBe("scheduled");
  });
});
