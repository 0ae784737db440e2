import { env, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Frame, openSocket, type RpcSocket, uniqueName } from "./rpc-helpers";

const actor = () => env.RPC_ACTOR.getByName(uniqueName("live"));

type Row = Record<string, unknown>;

/** A client-side copy of a live query's result, kept the way dosql-actors/client keeps it. */
class Mirror {
  rows = new Map<string, Row>();
  lsn = 0;
  constructor(readonly key: string[]) {}
  reset(snapshot: Frame): void {
    this.rows.clear();
    this.apply(snapshot);
  }
  apply(frame: Frame): void {
    for (const row of frame.rows) this.rows.set(JSON.stringify(this.key.map((k) => row[k])), row);
    for (const key of frame.removed) this.rows.delete(JSON.stringify(key));
    this.lsn = frame.lsn;
  }
  sorted(): Row[] {
    return [...this.rows.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }
}

async function subscribe(
  socket: RpcSocket,
  id: string,
  sql: string,
  params: unknown[] = [],
  fromLsn?: number,
) {
  socket.send({ id, subscribe: { sql, params, fromLsn } });
  return socket.next((f) => f.id === id);
}

const CHEAP = "SELECT id, name, qty FROM items WHERE qty < ?";

describe("live queries", () => {
  it("answers the rows and the LSN, then exactly the committed changes, in LSN order", async () => {
    const stub = actor();
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    await stub.addItem({ id: 2, name: "b", qty: 50 });
    const socket = await openSocket(stub);
    const answer = await subscribe(socket, "q", CHEAP, [10]);
    expect(answer.result).toMatchObject({ sub: "q", table: "items", key: ["id"], resumed: false });
    expect(answer.result.rows).toEqual([{ id: 1, name: "a", qty: 1 }]);
    const mirror = new Mirror(answer.result.key);
    mirror.reset(answer.result);
    const startLsn = answer.result.lsn;
    expect(startLsn).toBeGreaterThan(0);

    // A sequence of commits: insert matching, insert not matching, move into and out of the
    // result, delete, one transaction of three rows, a write to another table.
    const steps: (() => Promise<unknown>)[] = [
      () => stub.addItem({ id: 3, name: "c", qty: 3 }),
      () => stub.addItem({ id: 4, name: "d", qty: 99 }),
      () => stub.setQty(2, 5),
      () => stub.setQty(1, 500),
      () => stub.removeItem(3),
      () =>
        stub.addMany([
          { id: 10, name: "x", qty: 1 },
          { id: 11, name: "y", qty: 2 },
          { id: 12, name: "z", qty: 300 },
        ]),
      () => stub.write("INSERT INTO notes (id, text) VALUES (1, 'elsewhere')"),
      () => stub.setQty(10, 9),
    ];
    for (const step of steps) await step();
    await expectMirrorToMatch(
      socket,
      "q",
      mirror,
      () => stub.items(),
      (r) => Number(r.qty) < 10,
    );
    const pushes = socket.received.filter((f) => f.sub === "q");
    // One push per commit that changed what the query shows (the out-of-result insert and the
    // other table's write show nothing), each continuing exactly where the last ended.
    expect(pushes).toHaveLength(6);
    let held = startLsn;
    for (const push of pushes) {
      expect(push.since).toBe(held);
      expect(push.lsn).toBeGreaterThan(held);
      held = push.lsn;
    }
    expect(pushes[0]).toMatchObject({ rows: [{ id: 3, name: "c", qty: 3 }], removed: [] });
    expect(pushes[2]).toMatchObject({ rows: [], removed: [[1]] }); // moved out of the result
    expect(pushes[4].rows.map((r: Row) => r.id)).toEqual([10, 11]); // one transaction, one push
  });

  it("never pushes anything from a rolled-back transaction", async () => {
    const stub = actor();
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    const socket = await openSocket(stub);
    const answer = await subscribe(socket, "q", "SELECT id, name, qty FROM items");
    const failed = await socket.call("failAfterWrite", 77);
    expect(failed.error.code).toBe("ROLLED_BACK");
    await stub.addItem({ id: 2, name: "b", qty: 2 });
    const push = await socket.next((f) => f.sub === "q");
    expect(push.since).toBe(answer.result.lsn);
    expect(push.rows).toEqual([{ id: 2, name: "b", qty: 2 }]);
    expect(push.removed).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    const all = socket.received.filter((f) => f.sub === "q");
    expect(all).toHaveLength(1);
    expect(JSON.stringify(all)).not.toContain("doomed");
    expect((await stub.items()).map((r) => r.qty)).toEqual([1, 2]);
  });

  it("resumes after a disconnect from the last LSN with no gap and no duplicate", async () => {
    const stub = actor();
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    const first = await openSocket(stub);
    const answer = await subscribe(first, "q", CHEAP, [10]);
    const mirror = new Mirror(answer.result.key);
    mirror.reset(answer.result);
    await stub.addItem({ id: 2, name: "b", qty: 2 });
    mirror.apply(await first.next((f) => f.sub === "q"));
    first.ws.close(1000, "offline");
    // Changes while the client is away.
    await stub.setQty(1, 900);
    await stub.addItem({ id: 3, name: "c", qty: 3 });
    await stub.setQty(3, 4);
    await stub.removeItem(2);
    const second = await openSocket(stub);
    const resumed = await subscribe(second, "q", CHEAP, [10], mirror.lsn);
    expect(resumed.result.resumed).toBe(true);
    expect(resumed.result.rows).toEqual([{ id: 3, name: "c", qty: 4 }]);
    expect(resumed.result.removed.sort()).toEqual([[1], [2]]);
    mirror.apply(resumed.result);
    // And live again from there.
    await stub.addItem({ id: 4, name: "d", qty: 4 });
    const push = await second.next((f) => f.sub === "q");
    expect(push.since).toBe(resumed.result.lsn);
    mirror.apply(push);
    expect(mirror.sorted()).toEqual(
      (await stub.items()).filter((r) => r.qty < 10).map(({ owner: _, ...r }) => r),
    );
    // Resuming from the current LSN answers nothing new.
    const third = await openSocket(stub);
    const again = await subscribe(third, "q", CHEAP, [10], mirror.lsn);
    expect(again.result).toMatchObject({ resumed: true, rows: [], removed: [], lsn: mirror.lsn });
  });

  it("keeps pushing after the actor hibernates (the query lives in the socket state)", async () => {
    const stub = actor();
    const socket = await openSocket(stub);
    const answer = await subscribe(socket, "q", "SELECT id, qty FROM items");
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    const before = await socket.next((f) => f.sub === "q");
    expect(before.since).toBe(answer.result.lsn);
    await evictDurableObject(stub);
    await stub.addItem({ id: 2, name: "b", qty: 2 });
    const after = await socket.next((f) => f.sub === "q");
    expect(after).toMatchObject({ since: before.lsn, rows: [{ id: 2, qty: 2 }], removed: [] });
  });

  it("a composite key and a key change (delete + insert) are followed", async () => {
    const stub = actor();
    await stub.write("INSERT INTO pairs (a, b, v) VALUES ('x', 1, 'one'), ('x', 2, 'two')");
    const socket = await openSocket(stub);
    const answer = await subscribe(socket, "p", "SELECT a, b, v FROM pairs WHERE a = ?", ["x"]);
    expect(answer.result.key).toEqual(["a", "b"]);
    const mirror = new Mirror(answer.result.key);
    mirror.reset(answer.result);
    await stub.write("UPDATE pairs SET b = 3 WHERE a = 'x' AND b = 1");
    const push = await socket.next((f) => f.sub === "p");
    expect(push.rows).toEqual([{ a: "x", b: 3, v: "one" }]);
    expect(push.removed).toEqual([["x", 1]]);
    mirror.apply(push);
    expect([...mirror.rows.values()].map((r) => r.b).sort()).toEqual([2, 3]);
  });

  it("refuses what it cannot keep live, and what is not granted", async () => {
    const stub = actor();
    const socket = await openSocket(stub);
    const refused: [string, unknown[], string][] = [
      ["SELECT count(*) AS id FROM items", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT id FROM items LIMIT 5", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT name FROM items", [], "LIVE_QUERY_UNSUPPORTED"], // no primary key
      ["SELECT id FROM items; DELETE FROM items", [], "LIVE_QUERY_UNSUPPORTED"],
      ["DELETE FROM items RETURNING id", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT i.id FROM items i JOIN pairs p ON p.b = i.id", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT id, (SELECT text FROM notes) FROM items", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT name FROM sqlite_master", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT * FROM main.items", [], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT * FROM items WHERE id = ?1", [1], "LIVE_QUERY_UNSUPPORTED"],
      ["SELECT * FROM items WHERE id = ?", [], "VALIDATION_FAILED"],
      ["SELECT * FROM nowhere", [], "VALIDATION_FAILED"],
      ["SELECT * FROM notes", [], "FORBIDDEN"], // under history but not granted by history.live
      ["SELECT * FROM items", [], "FORBIDDEN"], // items is granted without owner
      ["SELECT id, owner FROM items", [], "FORBIDDEN"],
      ['SELECT id FROM items WHERE "OWNER" = ?', ["ada"], "FORBIDDEN"], // not even in a WHERE
    ];
    for (const [sql, params, code] of refused) {
      const answer = await subscribe(socket, `r-${sql}`, sql, params);
      expect(answer.error?.code, sql).toBe(code);
    }
    expect(await stub.items()).toEqual([]);
    // The live-feed grant (`changes:<table>` through canSubscribe) applies to live queries too.
    const deaf = await openSocket(stub, { query: { userId: "deaf" } });
    expect((await subscribe(deaf, "q", "SELECT id FROM items")).error.code).toBe("FORBIDDEN");
    // Nothing of a refused query was kept: no pushes.
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(socket.received.some((f) => f.sub !== undefined)).toBe(false);
  });

  it('bytes travel as {"$b": hex}, in the answer and in the pushes', async () => {
    const stub = actor();
    await stub.write("INSERT INTO pairs (a, b, v) VALUES ('k', 1, x'0aff')");
    const socket = await openSocket(stub);
    const answer = await subscribe(socket, "q", "SELECT a, b, v FROM pairs");
    expect(answer.result.rows).toEqual([{ a: "k", b: 1, v: { $b: "0aff" } }]);
    await stub.write("INSERT INTO pairs (a, b, v) VALUES ('k', 2, x'00107f80')");
    const push = await socket.next((f) => f.sub === "q");
    expect(push.rows).toEqual([{ a: "k", b: 2, v: { $b: "00107f80" } }]);
  });

  it("unsubscribe stops the pushes; subscriptions are bounded per socket", async () => {
    const stub = actor();
    const socket = await openSocket(stub);
    await subscribe(socket, "q", "SELECT id FROM items");
    socket.send({ id: "u", unsubscribe: "q" });
    expect((await socket.next((f) => f.id === "u")).result).toEqual({ unsubscribed: true });
    await stub.addItem({ id: 1, name: "a", qty: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(socket.received.some((f) => f.sub === "q")).toBe(false);
    for (let i = 0; i < 8; i++)
      expect(
        (await subscribe(socket, `s${i}`, "SELECT id FROM items WHERE qty > ?", [i])).result,
      ).toBeDefined();
    expect((await subscribe(socket, "s8", "SELECT id FROM items")).error.code).toBe("TOO_MANY_LIVE_QUERIES");
  });
});

/** Waits until the pushes brought the mirror to the query's result read directly. */
async function expectMirrorToMatch(
  socket: RpcSocket,
  sub: string,
  mirror: Mirror,
  read: () => Promise<Row[]>,
  filter: (row: Row) => boolean,
): Promise<void> {
  const expected = (await read()).filter(filter).map(({ owner: _, ...r }) => r);
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const push of socket.take((f) => f.sub === sub)) mirror.apply(push);
    if (JSON.stringify(mirror.sorted()) === JSON.stringify(expected) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(mirror.sorted()).toEqual(expected);
}
