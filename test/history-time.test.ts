import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { codeOf, freshHistory, inside, pointInTime, tick } from "./history-helpers";

type Snapshot = { at: number; items: unknown[]; pairs: unknown[]; tree: unknown[] };

const ITEMS = "SELECT id, name, qty, price, hex(data) AS data FROM items ORDER BY id";
const PAIRS = "SELECT a, b, v FROM pairs ORDER BY a, b";
const TREE =
  "SELECT f.id, f.name, d.name AS folder FROM files f JOIN folders d ON d.id = f.folder_id ORDER BY f.id";
const asOf = (sql: string, ...tables: string[]) => {
  let out = sql;
  for (const t of tables)
    out = out.replace(new RegExp(`\\b${t}\\b( [a-z]\\b)?`), (m) => `${m} FOR SYSTEM_TIME AS OF ?`);
  return out;
};

/** A small deterministic PRNG, so a failing sequence can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("FOR SYSTEM_TIME AS OF", () => {
  it("returns the exact state at every step of a random sequence of writes (with evictions)", async () => {
    const stub = freshHistory("asof");
    const rand = prng(42);
    const snapshots: Snapshot[] = [];
    const snapshot = async () => {
      const at = await pointInTime(stub);
      const state = await inside(stub, (actor) => ({
        items: actor.query(ITEMS),
        pairs: actor.query(PAIRS),
        tree: actor.query(TREE),
      }));
      snapshots.push({ at, ...state });
    };
    await inside(stub, (actor) =>
      actor.run("INSERT INTO folders (id, parent_id, name) VALUES (1, NULL, 'root'), (2, 1, 'docs')"),
    );
    await snapshot();
    for (let step = 0; step < 30; step++) {
      const r = () => Math.floor(rand() * 1000);
      const id = 1 + (r() % 8);
      const ops = [
        `INSERT INTO items (id, name, qty, price, data) VALUES (${id}, 'n${r()}', ${r()}, ${r() / 8}, x'${r().toString(16).padStart(4, "0")}') ON CONFLICT (id) DO UPDATE SET qty = excluded.qty`,
        `UPDATE items SET name = 'u${r()}', price = NULL WHERE id = ${id}`,
        `UPDATE items SET qty = qty + 1, data = NULL WHERE id % 2 = ${r() % 2}`,
        `DELETE FROM items WHERE id = ${id}`,
        `INSERT OR IGNORE INTO pairs (a, b, v) VALUES ('k${r() % 3}', ${r() % 3}, 'v${r()}')`,
        `UPDATE pairs SET b = b + 10 WHERE a = 'k${r() % 3}'`,
        `DELETE FROM pairs WHERE b > 5 AND a = 'k${r() % 3}'`,
        `INSERT OR REPLACE INTO files (id, folder_id, name) VALUES (${10 + (r() % 5)}, ${1 + (r() % 2)}, 'f${r()}')`,
        `UPDATE folders SET name = 'd${r()}' WHERE id = ${1 + (r() % 2)}`,
      ];
      const batch = [ops[r() % ops.length], ops[r() % ops.length]];
      await inside(stub, (actor) => {
        if (step % 3 === 0)
          actor.transaction(
            () => {
              for (const s of batch) actor.run(s);
            },
            { actor: `step${step}` },
          );
        else if (step % 3 === 1) for (const s of batch) actor.run(s);
        else for (const s of batch) actor.query(s);
      });
      if (step % 7 === 6) await evictDurableObject(stub);
      await snapshot();
    }
    expect(snapshots.length).toBe(31);
    const seen = await inside(stub, (actor) =>
      snapshots.map((s) => ({
        items: actor.query(asOf(ITEMS, "items"), [s.at]),
        pairs: actor.query(asOf(PAIRS, "pairs"), [s.at]),
        tree: actor.query(asOf(TREE, "files", "folders"), [s.at, s.at]),
      })),
    );
    seen.forEach((got, i) => {
      expect(got.items, `items at step ${i}`).toEqual(snapshots[i].items);
      expect(got.pairs, `pairs at step ${i}`).toEqual(snapshots[i].pairs);
      expect(got.tree, `join at step ${i}`).toEqual(snapshots[i].tree);
    });
    // The states really differ from step to step (the test would notice a wrong time).
    expect(new Set(snapshots.map((s) => JSON.stringify(s.items))).size).toBeGreaterThan(10);
  });

  it("reads only the changes made after the requested time, not the history before it", async () => {
    // The same table and the same 5 later changes, after 2,000 or 10,000 earlier changes.
    const measure = (earlier: number) =>
      inside(freshHistory(`cost${earlier}`), async (actor, state) => {
        actor.transaction(() => {
          for (let id = 1; id <= 200; id++)
            actor.run("INSERT INTO items (id, name, qty) VALUES (?, 'x', 0)", [id]);
        });
        for (let k = 0; k < earlier / 200; k++) actor.run("UPDATE items SET qty = qty + 1");
        const before = Date.now();
        await new Promise((r) => setTimeout(r, 3));
        for (let id = 1; id <= 5; id++) actor.run("UPDATE items SET qty = -1 WHERE id = ?", [id]);
        const sql = state.storage.sql;
        const exec = sql.exec;
        let last: SqlStorageCursor<Record<string, SqlStorageValue>> | undefined;
        sql.exec = ((query: string, ...args: unknown[]) => {
          last = exec.call(sql, query, ...args);
          return last;
        }) as never;
        try {
          const rows = actor.query<{ id: number; qty: number }>(
            "SELECT id, qty FROM items FOR SYSTEM_TIME AS OF ? ORDER BY id",
            [before],
          );
          const asOfRead = last!.rowsRead;
          actor.query("SELECT id, qty FROM items ORDER BY id");
          return { asOfRead, plainRead: last!.rowsRead, first: rows[0], count: rows.length };
        } finally {
          sql.exec = exec;
        }
      });
    const small = await measure(2000);
    const large = await measure(10_000);
    expect(small.first).toEqual({ id: 1, qty: 10 });
    expect(large.first).toEqual({ id: 1, qty: 50 });
    expect([small.count, large.count]).toEqual([200, 200]);
    expect(large.asOfRead).toBe(small.asOfRead);
    // The table scanned, each row probed against the set of changed keys, the union sorted, and
    // the 5 later changes: a bound in the table's size, whatever came before.
    expect(small.asOfRead).toBeLessThanOrEqual(3 * small.plainRead + 20);
  });

  it("leaves FOR SYSTEM_TIME inside strings, quoted names and comments alone", async () => {
    const stub = freshHistory("literal");
    const t0 = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'FOR SYSTEM_TIME AS OF ?', 1)");
      return Date.now();
    });
    await tick();
    await inside(stub, (actor) => actor.run("UPDATE items SET qty = 2"));
    const rows = await inside(stub, (actor) => ({
      literal: actor.query(
        "SELECT 'x FOR SYSTEM_TIME ALL' AS s, \"qty\" AS \"for system_time\", ? AS p /* FOR SYSTEM_TIME AS OF ? */ FROM items FOR SYSTEM_TIME AS OF ? -- FOR SYSTEM_TIME ALL\n WHERE name = 'FOR SYSTEM_TIME AS OF ?'",
        ["param", t0],
      ),
      plain: actor.query("SELECT qty FROM items WHERE name LIKE '%FOR SYSTEM_TIME%'"),
    }));
    expect(rows.literal).toEqual([{ s: "x FOR SYSTEM_TIME ALL", "for system_time": 1, p: "param" }]);
    expect(rows.plain).toEqual([{ qty: 2 }]);
    // Without a real clause the statement is left alone, numbered parameters included.
    const untouched = await inside(stub, (actor) =>
      actor.query("SELECT qty AS system_time FROM items WHERE id = ?1 AND 'for system_time' <> ?2", [1, "x"]),
    );
    expect(untouched).toEqual([{ system_time: 2 }]);
  });

  it("accepts aliases, TIMESTAMP, ISO strings and numbers; reads append-only tables by their time column", async () => {
    const stub = freshHistory("forms");
    const t0 = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
      actor.run("INSERT INTO events (kind, at) VALUES ('early', ?)", [Date.now()]);
      return Date.now();
    });
    await tick();
    await inside(stub, (actor) => {
      actor.run("UPDATE items SET qty = 2");
      actor.run("INSERT INTO events (kind, at) VALUES ('late', ?)", [Date.now()]);
    });
    const iso = new Date(t0).toISOString();
    const got = await inside(stub, (actor) => [
      actor.query("SELECT i.qty FROM items AS i FOR SYSTEM_TIME AS OF TIMESTAMP ?", [iso]),
      actor.query("SELECT x.qty FROM items FOR SYSTEM_TIME AS OF ? x WHERE x.id = 1", [new Date(t0)]),
      actor.query(`SELECT qty FROM main.items FOR SYSTEM_TIME AS OF ${t0}`),
      actor.query(`SELECT qty FROM items FOR SYSTEM_TIME AS OF TIMESTAMP '${iso}'`),
      actor.query("SELECT kind FROM events FOR SYSTEM_TIME AS OF ? ORDER BY id", [t0]),
      actor.query("SELECT kind FROM events ORDER BY id"),
      actor.query("SELECT qty FROM items"),
    ]);
    expect(got).toEqual([
      [{ qty: 1 }],
      [{ qty: 1 }],
      [{ qty: 1 }],
      [{ qty: 1 }],
      [{ kind: "early" }],
      [{ kind: "early" }, { kind: "late" }],
      [{ qty: 2 }],
    ]);
  });

  it("answers typed errors for bad clauses, times, tables and times before history", async () => {
    const stub = freshHistory("errors");
    const t0 = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
      return Date.now();
    });
    const q = (sql: string, params: unknown[] = []) =>
      codeOf(inside(stub, (actor) => actor.query(sql, params)));
    const codes = await Promise.all([
      q("SELECT * FROM items FOR SYSTEM_TIME AS OF ?", ["yesterday-ish"]),
      q("SELECT * FROM items FOR SYSTEM_TIME AS OF ?", [-5]),
      q("SELECT * FROM items FOR SYSTEM_TIME AS OF ?", []),
      q("SELECT * FROM items FOR SYSTEM_TIME AS OF ?1", [t0]),
      q("SELECT * FROM items FOR SYSTEM_TIME SOMETIME"),
      q("SELECT * FROM FOR SYSTEM_TIME ALL"),
      q("SELECT * FROM sqlite_master FOR SYSTEM_TIME ALL"),
      q("SELECT * FROM items FOR SYSTEM_TIME BETWEEN ? AND", [t0]),
      q("SELECT * FROM items FOR SYSTEM_TIME AS OF ?", [t0 - 86_400_000]),
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "HISTORY_NOT_TRACKED",
      "VALIDATION_FAILED",
      "HISTORY_UNAVAILABLE",
    ]);
  });
});

describe("FOR SYSTEM_TIME BETWEEN / FROM / ALL", () => {
  it("returns each row version with the times it was valid", async () => {
    const stub = freshHistory("versions");
    await inside(stub, (actor) =>
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 1)"),
    );
    await tick();
    await inside(stub, (actor) => actor.run("UPDATE items SET qty = 2 WHERE id = 1"));
    await tick();
    await inside(stub, (actor) =>
      actor.transaction(() => {
        actor.run("DELETE FROM items WHERE id = 2");
        actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 3)");
      }),
    );
    await tick();
    await inside(stub, (actor) =>
      actor.transaction(() => {
        actor.run("UPDATE items SET qty = 5 WHERE id = 1");
        actor.run("UPDATE items SET qty = 6 WHERE id = 1"); // same transaction: one version
      }),
    );
    const { all, feed } = await inside(stub, (actor) => ({
      all: actor.query<{ id: number; qty: number; _valid_from: number | null; _valid_to: number | null }>(
        "SELECT id, qty, _valid_from, _valid_to FROM items FOR SYSTEM_TIME ALL ORDER BY id, _valid_from",
      ),
      feed: actor.history.changes().changes,
    }));
    const at = [...new Set(feed.map((c) => c.at))];
    expect(at.length).toBe(4);
    expect(all).toEqual([
      { id: 1, qty: 1, _valid_from: at[0], _valid_to: at[1] },
      { id: 1, qty: 2, _valid_from: at[1], _valid_to: at[3] },
      { id: 1, qty: 6, _valid_from: at[3], _valid_to: null },
      { id: 2, qty: 1, _valid_from: at[0], _valid_to: at[2] },
      { id: 3, qty: 3, _valid_from: at[2], _valid_to: null },
    ]);
    const between = await inside(stub, (actor) => ({
      mid: actor.query("SELECT id, qty FROM items FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY id, qty", [
        at[1],
        at[1],
      ]),
      fromTo: actor.query("SELECT id, qty FROM items FOR SYSTEM_TIME FROM ? TO ? ORDER BY id, qty", [
        at[0],
        at[1],
      ]),
      late: actor.query("SELECT id, qty FROM items FOR SYSTEM_TIME BETWEEN ? AND ? ORDER BY id, qty", [
        at[3],
        at[3] + 1000,
      ]),
    }));
    expect(between.mid).toEqual([
      { id: 1, qty: 2 },
      { id: 2, qty: 1 },
    ]);
    expect(between.fromTo).toEqual([
      { id: 1, qty: 1 },
      { id: 2, qty: 1 },
    ]);
    expect(between.late).toEqual([
      { id: 1, qty: 6 },
      { id: 3, qty: 3 },
    ]);
  });

  it("rows never changed since history began have an open start", async () => {
    const stub = freshHistory("open");
    await inside(stub, (actor) => actor.run("INSERT INTO pairs (a, b, v) VALUES ('p', 1, 'x')"));
    await tick();
    await inside(stub, (actor) => actor.run("UPDATE pairs SET v = 'y'"));
    const rows = await inside(stub, (actor) =>
      actor.query(
        "SELECT a, b, v, _valid_from IS NULL AS open_start, _valid_to IS NULL AS current FROM pairs FOR SYSTEM_TIME ALL ORDER BY v",
      ),
    );
    expect(rows).toEqual([
      { a: "p", b: 1, v: "x", open_start: 0, current: 0 },
      { a: "p", b: 1, v: "y", open_start: 0, current: 1 },
    ]);
  });
});
