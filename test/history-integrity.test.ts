import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { ActorError } from "../src/index";
import type { HistoryFkActor } from "./fixtures/history-fk";
import { codeOf, tick } from "./history-helpers";

type Stub = DurableObjectStub<HistoryFkActor>;
let seq = 0;
const fresh = (prefix: string): Stub => env.HISTORY_FK.getByName(`${prefix}-${Date.now()}-${seq++}`);
const inside = <T>(stub: Stub, fn: (a: HistoryFkActor, state: DurableObjectState) => T) =>
  runInDurableObject(stub, fn);
const q = (stub: Stub, sql: string, params: unknown[] = []) => inside(stub, (a) => a.query(sql, params));
/** The typed error of a synchronous call inside the actor. */
function errorOf(fn: () => unknown): { code: string; details?: unknown } | undefined {
  try {
    fn();
  } catch (err) {
    const e = ActorError.from(err);
    return e ? { code: e.code, details: e.details } : { code: `UNTYPED: ${String(err)}` };
  }
  return undefined;
}

describe("undo, merge and restore never cascade silently into later rows", () => {
  it("undo of a parent's insert refuses when a later transaction added a CASCADE child", async () => {
    const stub = fresh("undo-cascade");
    const result = await inside(stub, (a) => {
      const tx = a.transaction(() => a.run("INSERT INTO parents (id, name) VALUES (1, 'p')"));
      void tx;
      const first = a.history.changes().changes[0].tx;
      a.run("INSERT INTO kids (id, parent_id, name) VALUES (10, 1, 'later')");
      return { err: errorOf(() => a.undo(first)), kids: a.query("SELECT id FROM kids") };
    });
    expect(result.err?.code).toBe("CONFLICT");
    expect(JSON.stringify(result.err?.details)).toContain('"kids"');
    expect(result.kids).toEqual([{ id: 10 }]);
  });

  it("undo of a parent's insert refuses when a later transaction added a SET NULL child", async () => {
    const stub = fresh("undo-setnull");
    const result = await inside(stub, (a) => {
      a.run("INSERT INTO parents (id, name) VALUES (1, 'p')");
      const first = a.history.changes().changes[0].tx;
      a.run("INSERT INTO pets (id, parent_id, name) VALUES (20, 1, 'rex')");
      return { err: errorOf(() => a.undo(first)), pets: a.query("SELECT id, parent_id FROM pets") };
    });
    expect(result.err?.code).toBe("CONFLICT");
    expect(JSON.stringify(result.err?.details)).toContain('"pets"');
    expect(result.pets).toEqual([{ id: 20, parent_id: 1 }]);
  });

  it("undo still works when its cascade only reaches its own rows", async () => {
    const stub = fresh("undo-own");
    const result = await inside(stub, (a) => {
      a.transaction(() => {
        a.run("INSERT INTO parents (id, name) VALUES (1, 'p')");
        a.run("INSERT INTO kids (id, parent_id, name) VALUES (10, 1, 'same tx')");
      });
      const first = a.history.changes().changes[0].tx;
      a.undo(first);
      return a.query("SELECT (SELECT count(*) FROM parents) AS p, (SELECT count(*) FROM kids) AS k");
    });
    expect(result).toEqual([{ p: 0, k: 0 }]);
  });

  it("restoreTo({ tables: [parent] }) refuses to cascade into a table it was not given, naming it", async () => {
    const stub = fresh("restore-subset");
    await inside(stub, (a) => a.run("INSERT INTO parents (id, name) VALUES (1, 'old')"));
    await tick();
    const at = await inside(stub, () => Date.now());
    await tick();
    const result = await inside(stub, (a) => {
      a.run("INSERT INTO parents (id, name) VALUES (2, 'new')");
      a.run("INSERT INTO kids (id, parent_id, name) VALUES (10, 2, 'k')");
      a.run("INSERT INTO pets (id, parent_id, name) VALUES (20, 2, 'rex')");
      return {
        err: errorOf(() => a.restoreTo(at, { tables: ["parents"] })),
        rows: a.query("SELECT (SELECT count(*) FROM parents) AS p, (SELECT count(*) FROM kids) AS k"),
      };
    });
    expect(result.err?.code).toBe("RESTORE_SCOPE");
    expect((result.err!.details as { tables: string[] }).tables.sort()).toEqual(["kids", "pets"]);
    expect(result.rows).toEqual([{ p: 2, k: 1 }]);
    // Named with the tables it touches, the same restore goes through.
    const all = await inside(stub, (a) => {
      a.restoreTo(at, { tables: ["parents", "kids", "pets"] });
      return a.query("SELECT (SELECT count(*) FROM parents) AS p, (SELECT count(*) FROM kids) AS k");
    });
    expect(all).toEqual([{ p: 1, k: 0 }]);
  });

  it("restoreTo undoes a UNIQUE value that moved between keys", async () => {
    const stub = fresh("restore-unique");
    await inside(stub, (a) => a.run("INSERT INTO handles (id, handle) VALUES (1, 'ann')"));
    await tick();
    const at = await inside(stub, () => Date.now());
    await tick();
    const result = await inside(stub, (a) => {
      a.transaction(() => {
        a.run("DELETE FROM handles WHERE id = 1");
        a.run("INSERT INTO handles (id, handle) VALUES (2, 'ann')");
      });
      a.restoreTo(at);
      return a.query("SELECT id, handle FROM handles");
    });
    expect(result).toEqual([{ id: 1, handle: "ann" }]);
  });

  it("a UNIQUE clash a restore cannot resolve is a typed CONFLICT, not a 500", async () => {
    const stub = fresh("restore-unique-clash");
    await inside(stub, (a) => a.run("INSERT INTO handles (id, handle) VALUES (1, 'ann')"));
    await tick();
    const at = await inside(stub, () => Date.now());
    await tick();
    const result = await inside(stub, (a) => {
      a.run("UPDATE handles SET handle = 'bob' WHERE id = 1");
      a.run("INSERT INTO handles (id, handle) VALUES (2, 'ann')");
      return errorOf(() => a.restoreTo(at, { tables: ["handles"] }));
    });
    // id 2 was inserted after `at`, so the restore deletes it and gives 'ann' back to 1.
    expect(result).toBeUndefined();
    expect(await q(stub, "SELECT id, handle FROM handles")).toEqual([{ id: 1, handle: "ann" }]);
  });
});

describe("values of every type, keys and append-only tables", () => {
  it("a BLOB in a TEXT, INTEGER or REAL column is captured and restored exactly", async () => {
    const stub = fresh("blob-any");
    await tick();
    const at = await inside(stub, () => Date.now());
    await tick();
    const result = await inside(stub, (a) => {
      const b = new Uint8Array([0, 1, 254, 255]);
      a.run("INSERT INTO anyv (id, t, n, r, u) VALUES (1, ?, ?, ?, ?)", [b, b, b, b]);
      const row = a.query("SELECT typeof(t) AS t, typeof(n) AS n, typeof(r) AS r, hex(t) AS h FROM anyv");
      const asOf = a.query("SELECT hex(t) AS h, typeof(n) AS n FROM anyv FOR SYSTEM_TIME AS OF ?", [
        Date.now() + 1,
      ]);
      const change = a.history.changes().changes.at(-1)!;
      a.restoreTo(at);
      const gone = a.query("SELECT count(*) AS n FROM anyv");
      return { row, asOf, after: change.after, gone };
    });
    expect(result.row).toEqual([{ t: "blob", n: "blob", r: "blob", h: "0001FEFF" }]);
    expect(result.asOf).toEqual([{ h: "0001FEFF", n: "blob" }]);
    expect(result.after?.t).toEqual(new Uint8Array([0, 1, 254, 255]));
    expect(result.gone).toEqual([{ n: 0 }]);
  });

  it("bigint binds as INTEGER exactly, and survives capture and restore", async () => {
    const stub = fresh("bigint");
    const big = 9007199254740993n;
    const stored = await inside(stub, (a) => {
      a.run("INSERT INTO anyv (id, u, n) VALUES (1, ?, ?)", [big, -big]);
      return a.query("SELECT typeof(u) AS tu, CAST(u AS TEXT) AS u, CAST(n AS TEXT) AS n FROM anyv");
    });
    await tick();
    const t0 = await inside(stub, () => Date.now());
    await tick();
    const result = await inside(stub, (a) => {
      a.run("UPDATE anyv SET u = 0 WHERE id = 1");
      const asOf = a.query("SELECT CAST(u AS TEXT) AS u, typeof(u) AS tu FROM anyv FOR SYSTEM_TIME AS OF ?", [
        t0,
      ]);
      const tooBig = errorOf(() => a.run("SELECT ?", [2n ** 63n]));
      a.restoreTo(t0);
      const back = a.query("SELECT CAST(u AS TEXT) AS u, typeof(u) AS tu FROM anyv");
      return { stored, asOf, tooBig, back };
    });
    expect(result.stored).toEqual([{ tu: "integer", u: "9007199254740993", n: "-9007199254740993" }]);
    expect(result.asOf).toEqual([{ u: "9007199254740993", tu: "integer" }]);
    expect(result.tooBig?.code).toBe("VALIDATION_FAILED");
    expect(result.back).toEqual([{ u: "9007199254740993", tu: "integer" }]);
  });

  it("append-only tables refuse DELETE as they refuse UPDATE", async () => {
    const stub = fresh("append-delete");
    const result = await inside(stub, (a) => {
      a.run("INSERT INTO logs (id, msg, at) VALUES (1, 'm', ?)", [Date.now()]);
      return {
        del: errorOf(() => a.run("DELETE FROM logs WHERE id = 1")),
        upd: errorOf(() => a.run("UPDATE logs SET msg = 'x' WHERE id = 1")),
        rows: a.query("SELECT count(*) AS n FROM logs"),
      };
    });
    expect(result.del?.code).toBe("APPEND_ONLY");
    expect(result.upd?.code).toBe("APPEND_ONLY");
    expect(result.rows).toEqual([{ n: 1 }]);
  });

  it("a table whose key can be NULL is not tracked, and says why", async () => {
    const stub = fresh("null-key");
    const status = await inside(stub, (a) => a.history.status());
    expect(status.tables).not.toContain("loose");
    expect(status.skipped).toContainEqual({ table: "loose", reason: expect.stringContaining("NULL") });
    expect(
      (await codeOf(inside(stub, (a) => a.query("SELECT * FROM loose FOR SYSTEM_TIME AS OF ?", [1]))))?.code,
    ).toBe("HISTORY_NOT_TRACKED");
  });
});

describe("transactions have one owner", () => {
  it("a raw ctx.storage.transactionSync is one history transaction, so undo reverts all of it", async () => {
    const stub = fresh("raw-tx");
    const result = await inside(stub, (a, state) => {
      state.storage.transactionSync(() => {
        state.storage.sql.exec("INSERT INTO parents (id, name) VALUES (1, 'a')");
        state.storage.sql.exec("INSERT INTO parents (id, name) VALUES (2, 'b')");
      });
      const txs = [...new Set(a.history.changes().changes.map((c) => c.tx))];
      a.undo(txs[0]);
      return { txs: txs.length, left: a.query("SELECT count(*) AS n FROM parents") };
    });
    expect(result).toEqual({ txs: 1, left: [{ n: 0 }] });
  });

  it("history does not patch the runtime's storage objects", async () => {
    const stub = fresh("no-patch");
    const own = await inside(stub, (_a, state) => ({
      exec: Object.hasOwn(state.storage.sql, "exec"),
      tx: Object.hasOwn(state.storage, "transactionSync"),
    }));
    expect(own).toEqual({ exec: false, tx: false });
  });

  it("an empty transaction runs nothing of history (a raw write before it stays open)", async () => {
    const stub = fresh("empty-tx");
    const result = await inside(stub, (a, state) => {
      a.run("INSERT INTO parents (id, name) VALUES (1, 'a')");
      const c = state.storage.sql.exec("SELECT total_changes() AS n").one().n as number;
      for (let i = 0; i < 3; i++) a.transaction(() => a.query("SELECT 1"));
      const written = (state.storage.sql.exec("SELECT total_changes() AS n").one().n as number) - c;
      // History cannot see where a raw write ends: only the next write through the actor closes
      // it, which an empty transaction must not pretend to be (it would cost a statement).
      state.storage.sql.exec("INSERT INTO parents (id, name) VALUES (2, 'raw')");
      a.transaction(() => a.query("SELECT 1"), { actor: "nobody" });
      a.run("INSERT INTO parents (id, name) VALUES (3, 'b')");
      const txs = a.history.changes().changes.map((ch) => [ch.tx, ch.actor]);
      return { written, txs };
    });
    expect(result.written).toBe(0);
    const [first, second, third] = result.txs;
    expect(first[0]).not.toBe(second[0]);
    expect(second).toEqual(third);
    expect(second[1]).toBeNull(); // the empty transaction's actor went nowhere
  });
});

describe("run() is exact", () => {
  it("after DDL it answers 0 changes, not the previous statement's", async () => {
    const stub = fresh("run-ddl");
    const result = await inside(stub, (a) => {
      const insert = a.run("INSERT INTO parents (id, name) VALUES (7, 'a'), (8, 'b')");
      const ddl = a.run("CREATE TABLE extra (x)");
      const drop = a.run("DROP TABLE extra");
      const select = a.run("SELECT 1");
      const update = a.run("UPDATE parents SET name = 'c' WHERE id = 7");
      const cte = a.run("WITH v(x) AS (SELECT 9) INSERT INTO parents (id, name) SELECT x, 'w' FROM v");
      return { insert, ddl, drop, select, update, cte };
    });
    expect(result).toEqual({
      insert: { changes: 2, lastRowId: 8 },
      ddl: { changes: 0, lastRowId: 0 },
      drop: { changes: 0, lastRowId: 0 },
      select: { changes: 0, lastRowId: 0 },
      update: { changes: 1, lastRowId: 0 },
      cte: { changes: 1, lastRowId: 9 },
    });
  });
});

describe("the live change feed needs a grant", () => {
  async function connect(stub: Stub, topics: string) {
    const params = new URLSearchParams({ _pk: `c${seq++}`, userId: "u", topics });
    const res = await stub.fetch(`http://actor/ws?${params}`, { headers: { Upgrade: "websocket" } });
    const ws = res.webSocket!;
    ws.accept();
    const frames: any[] = [];
    ws.addEventListener("message", (e: MessageEvent) => frames.push(JSON.parse(String(e.data))));
    return { res, frames };
  }

  it("refuses changes: topics of tables not granted, and carries only the granted columns", async () => {
    const stub = fresh("feed-grant");
    const pets = await connect(stub, "changes:pets");
    const parents = await connect(stub, "changes:parents");
    const all = await connect(stub, "changes:*");
    await vi.waitFor(() => expect(pets.frames.some((f) => f.type === "error")).toBe(true), { timeout: 3000 });
    await inside(stub, (a) => {
      a.run("INSERT INTO parents (id, name) VALUES (1, 'p')");
      a.run("INSERT INTO pets (id, parent_id, name) VALUES (1, 1, 'secret')");
      a.run("INSERT INTO kids (id, parent_id, name) VALUES (1, 1, 'k')");
    });
    await vi.waitFor(
      () => {
        expect(parents.frames.filter((f) => f.type === "changes")).toHaveLength(1);
        expect(all.frames.filter((f) => f.type === "changes")).toHaveLength(2);
      },
      { timeout: 3000 },
    );
    expect(JSON.stringify(pets.frames)).not.toContain("secret");
    expect(JSON.stringify(all.frames)).not.toContain("secret");
    const frame = parents.frames.find((f) => f.type === "changes");
    expect(frame.changes[0].after).toEqual({ id: 1, name: "p" });
    expect(
      all.frames
        .filter((f) => f.type === "changes")
        .map((f) => f.table)
        .sort(),
    ).toEqual(["kids", "parents"]);
  });
});
