import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openSocket, uniqueName } from "./rpc-helpers";

const actor = (prefix: string) => env.RPC_ACTOR.getByName(uniqueName(prefix));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("socket RPC audit", () => {
  // A connection id is the client's `_pk`, and presence shows every connection's id to everyone.
  it("a socket that takes another's connection id can neither cancel, crowd out nor (by closing) stop its calls", async () => {
    const stub = actor("same-id");
    const victim = await openSocket(stub, { id: "shared" });
    victim.send({ id: "s", method: "count", args: [30, 20] });
    await victim.next((f) => f.id === "s" && f.chunk === 2);
    const other = await openSocket(stub, { id: "shared" });
    // Its own calls under the victim's call id are its own, not a duplicate of the victim's.
    expect((await other.call("echo", "mine")).result).toEqual(["mine"]);
    other.send({ id: "s", method: "echo", args: ["same call id"] });
    expect(await other.next((f) => f.id === "s")).toEqual({ id: "s", result: ["same call id"] });
    other.send({ cancel: "s" });
    await sleep(100);
    other.ws.close(1000, "bye");
    const done = await victim.next((f) => f.id === "s" && f.done, 10_000);
    expect(done).toEqual({ id: "s", done: true });
    const chunks = victim.received.filter((f) => f.id === "s" && "chunk" in f).map((f) => f.chunk);
    expect(chunks).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The victim's own cancel still works.
    victim.send({ id: "t", method: "count", args: [1000, 20] });
    await victim.next((f) => f.id === "t" && f.chunk === 1);
    victim.send({ cancel: "t" });
    expect(await victim.next((f) => f.id === "t" && f.done)).toEqual({
      id: "t",
      done: true,
      cancelled: true,
    });
  });

  it("an RPC frame without a usable id is answered with the contract's error frame ({ type, data: { code, message } })", async () => {
    const socket = await openSocket(actor("error-shape"));
    for (const frame of [
      { id: { not: "an id" }, method: "echo" },
      { id: 1.5, subscribe: { sql: "SELECT id FROM items" } },
      { cancel: { not: "an id" } },
    ]) {
      socket.send(frame);
      const error = await socket.next((f) => f.type === "error");
      expect(error.data, JSON.stringify(frame)).toEqual({
        code: "VALIDATION_FAILED",
        message: error.message,
      });
      expect(error.code).toBe("VALIDATION_FAILED");
    }
    expect((await socket.call("echo", "open")).result).toEqual(["open"]);
  });

  // A live query is kept up to date from the rows each commit changed; a row's place in the result
  // must depend on that row alone. A self-join makes it depend on other rows.
  it("a live query whose result depends on other rows of the table (self-join) is refused, not silently left stale", async () => {
    // Items whose successor id exists: only row 1 once row 2 is added.
    for (const sql of [
      "SELECT a.id, a.name FROM items a JOIN items b ON b.id = a.id + 1",
      "SELECT a.id, a.name FROM items a, items b WHERE b.id = a.id + 1",
      "SELECT id, name FROM items a WHERE EXISTS (SELECT 1 FROM items b WHERE b.id = a.id + 1)",
    ]) {
      const stub = actor("self-join");
      await stub.addItem({ id: 1, name: "a", qty: 1 });
      const socket = await openSocket(stub);
      socket.send({ id: "join", subscribe: { sql } });
      const answer = await socket.next((f) => f.id === "join");
      if (answer.result) {
        // Accepted: then it must follow the commit that brings row 1 into the result.
        expect(answer.result.rows, sql).toEqual([]);
        await stub.addItem({ id: 2, name: "b", qty: 1 });
        const push = await socket.next((f) => f.sub === "join", 2_000).catch(() => undefined);
        expect(push?.rows, `${sql}: row 1 joined the result, no push`).toEqual([{ id: 1, name: "a" }]);
      } else expect(answer.error.code, sql).toBe("LIVE_QUERY_UNSUPPORTED");
    }
    // Queries that read each row on its own are still served.
    const socket = await openSocket(actor("row-by-row"));
    for (const [id, plain, params] of [
      ["plain", "SELECT id, name FROM items WHERE qty < ?", [5]],
      ["or", "SELECT id, name FROM items WHERE id = ? OR qty = ?", [1, 5]],
      [
        "union",
        "SELECT id, name FROM items WHERE qty < ? UNION SELECT id, name FROM items WHERE id > ?",
        [1, 5],
      ],
      [
        "all",
        "SELECT id, name FROM items WHERE qty < ? UNION ALL SELECT id, name FROM items WHERE id > ?",
        [1, 5],
      ],
      ["json", "SELECT items.id, items.name FROM items, json_each(?) j WHERE items.id = j.value", ["[1, 2]"]],
    ] as const) {
      socket.send({ id, subscribe: { sql: plain, params } });
      const got = await socket.next((f) => f.id === id);
      expect(got.error, `${plain}: ${JSON.stringify(got.error)}`).toBeUndefined();
    }
  });

  it("a live query with GROUP BY (one row per group, whichever the table holds) is refused, not silently left wrong", async () => {
    const stub = actor("group-by");
    await stub.addItem({ id: 1, name: "same", qty: 1 });
    const socket = await openSocket(stub);
    const sql = "SELECT id, name FROM items GROUP BY name";
    socket.send({ id: "g", subscribe: { sql } });
    const answer = await socket.next((f) => f.id === "g");
    if (answer.result) {
      const mirror = new Map(answer.result.rows.map((r: { id: number }) => [r.id, r]));
      await stub.addItem({ id: 2, name: "same", qty: 1 });
      const push = await socket.next((f) => f.sub === "g", 1_500).catch(() => undefined);
      for (const row of push?.rows ?? []) mirror.set(row.id, row);
      for (const [id] of push?.removed ?? []) mirror.delete(id);
      socket.send({ id: "now", subscribe: { sql } });
      const now = await socket.next((f) => f.id === "now");
      expect([...mirror.values()], "the client's copy after the push").toEqual(now.result.rows);
    } else expect(answer.error.code).toBe("LIVE_QUERY_UNSUPPORTED");
  });

  // Rows are keyed by the key columns the result names; a result column named like one but holding
  // another value keys the client's copy by the wrong value.
  it("a live query whose key column holds another value (SELECT name AS id) is refused, not silently wrong", async () => {
    const keyOf = (key: string[], row: Record<string, unknown>) => JSON.stringify(key.map((c) => row[c]));
    for (const sql of [
      "SELECT name AS id, qty FROM items",
      "SELECT name id, qty FROM items",
      'SELECT qty, name AS "ID" FROM items',
      "SELECT id AS n, name AS id FROM items",
      "SELECT id, qty FROM (SELECT name AS id, qty FROM items)",
      "SELECT id, name FROM items WHERE qty < 2 UNION ALL SELECT qty, name FROM items WHERE qty >= 2",
      "SELECT id, qty FROM renamed",
    ]) {
      const stub = actor("alias-key");
      await stub.run("CREATE VIEW renamed AS SELECT name AS id, qty FROM items");
      await stub.addItem({ id: 1, name: "same", qty: 2 });
      await stub.addItem({ id: 2, name: "same", qty: 1 });
      const socket = await openSocket(stub);
      socket.send({ id: "k", subscribe: { sql } });
      const answer = await socket.next((f) => f.id === "k");
      if (answer.result) {
        // Accepted: then the client's copy, keyed by `key`, must match the result after a change.
        const { key, rows } = answer.result;
        const mirror = new Map(rows.map((r: Record<string, unknown>) => [keyOf(key, r), r]));
        await stub.setQty(1, 5);
        const push = await socket.next((f) => f.sub === "k", 1_500).catch(() => undefined);
        for (const row of push?.rows ?? []) mirror.set(keyOf(key, row), row);
        for (const values of push?.removed ?? []) mirror.delete(JSON.stringify(values));
        socket.send({ id: "now", subscribe: { sql } });
        const now = await socket.next((f) => f.id === "now");
        const sorted = (list: unknown[]) => list.map((r) => JSON.stringify(r)).sort();
        expect(sorted([...mirror.values()]), `${sql}: the client's copy`).toEqual(sorted(now.result.rows));
      } else expect(answer.error.code, sql).toBe("LIVE_QUERY_UNSUPPORTED");
      socket.ws.close(1000, "done");
    }
    // The key named plainly, qualified, or aliased to itself is still served.
    const socket = await openSocket(actor("key-plain"));
    for (const [id, plain] of [
      ["self", "SELECT items.id AS id, name FROM items"],
      ["alias", "SELECT i.id, i.name AS label FROM items i"],
      ["star", "SELECT *, v AS w FROM pairs WHERE b > 0"],
      ["sub", "SELECT id, name FROM (SELECT id, name FROM items)"],
    ] as const) {
      socket.send({ id, subscribe: { sql: plain } });
      const got = await socket.next((f) => f.id === id);
      expect(got.error, `${plain}: ${JSON.stringify(got.error)}`).toBeUndefined();
    }
  });
});
