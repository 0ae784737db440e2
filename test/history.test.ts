import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { historyMigrations } from "./fixtures/history-actors";
import { historyV1, historyV2 } from "./fixtures/history-migrations";
import * as schema from "./fixtures/history-schema";
import { codeOf, freshHistory, inside } from "./history-helpers";

describe("history capture", () => {
  it("records inserts, updates and deletes with their images (drizzle, query/run and raw SQL)", async () => {
    const stub = freshHistory("ops");
    const page = await inside(stub, (actor, state) => {
      actor.db.insert(schema.items).values({ id: 1, name: "drizzle", qty: 1, price: 1.5 }).run();
      actor.run("INSERT INTO items (id, name, qty, data) VALUES (?, ?, ?, ?)", [
        2,
        "run",
        2,
        new Uint8Array([0, 1, 255]),
      ]);
      state.storage.sql.exec("INSERT INTO items (id, name, qty) VALUES (3, 'raw', 3)");
      actor.db.update(schema.items).set({ qty: 10 }).where(eq(schema.items.id, 1)).run();
      actor.run("UPDATE items SET name = ?, price = ? WHERE id = ?", ["renamed", 2.25, 2]);
      state.storage.sql.exec("UPDATE items SET qty = qty WHERE id = 3"); // no change: nothing recorded
      state.storage.sql.exec("DELETE FROM items WHERE id = 3");
      actor.db.delete(schema.items).where(eq(schema.items.id, 1)).run();
      return actor.history.changes();
    });
    const summary = page.changes.map((c) => [c.op, c.table, c.key, c.changed ?? null]);
    expect(summary).toEqual([
      ["insert", "items", { id: 1 }, null],
      ["insert", "items", { id: 2 }, null],
      ["insert", "items", { id: 3 }, null],
      ["update", "items", { id: 1 }, ["qty"]],
      ["update", "items", { id: 2 }, ["name", "price"]],
      ["delete", "items", { id: 3 }, null],
      ["delete", "items", { id: 1 }, null],
    ]);
    const [ins1, ins2, , upd1, upd2, del3, del1] = page.changes;
    expect(ins1.before).toBeNull();
    expect(ins1.after).toEqual({ id: 1, name: "drizzle", qty: 1, price: 1.5, data: null });
    expect(ins2.after?.data).toEqual(new Uint8Array([0, 1, 255]));
    expect(upd1.before).toEqual({ id: 1, name: "drizzle", qty: 1, price: 1.5, data: null });
    expect(upd1.after).toEqual({ id: 1, name: "drizzle", qty: 10, price: 1.5, data: null });
    expect(upd2.after).toMatchObject({ name: "renamed", price: 2.25, data: new Uint8Array([0, 1, 255]) });
    expect(del3.before).toEqual({ id: 3, name: "raw", qty: 3, price: null, data: null });
    expect(del3.after).toBeNull();
    expect(del1.before).toMatchObject({ id: 1, qty: 10 });
    // LSNs are consecutive and the page says where to continue.
    expect(page.changes.map((c) => c.lsn)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(page.nextLsn).toBe(8);
  });

  it("keeps exact SQLite types in images (integer vs real, text that looks like JSON, big integers)", async () => {
    const stub = freshHistory("types");
    const back = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty, price) VALUES (?, ?, ?, ?)", [
        1,
        '{"not":"json"}',
        2 ** 53 - 1,
        2.0,
      ]);
      actor.run("DELETE FROM items");
      return actor.history.changes().changes.map((c) => c.before ?? c.after);
    });
    expect(back[0]).toEqual({ id: 1, name: '{"not":"json"}', qty: 2 ** 53 - 1, price: 2, data: null });
  });

  it("gives every change of one transaction the same id and the transaction's actor", async () => {
    const stub = freshHistory("tx");
    const changes = await inside(stub, (actor, state) => {
      actor.transaction(
        () => {
          actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
          actor.db.insert(schema.items).values({ id: 2, name: "b", qty: 2 }).run();
          state.storage.sql.exec("UPDATE items SET qty = qty + 1");
        },
        { actor: "alice" },
      );
      // drizzle's own transaction is grouped the same way.
      actor.db.transaction((tx) => {
        tx.insert(schema.items).values({ id: 3, name: "c", qty: 3 }).run();
        tx.delete(schema.items).where(eq(schema.items.id, 1)).run();
      });
      // Outside a transaction every statement of the actor is its own transaction, even a
      // multi-row one; a raw write on ctx.storage (history cannot see its end) joins the next one.
      actor.run("INSERT INTO pairs (a, b) VALUES ('x', 1), ('y', 2)");
      state.storage.sql.exec("UPDATE pairs SET v = 'raw' WHERE a = 'x'");
      actor.run("UPDATE pairs SET v = 'set'");
      // A rolled-back transaction leaves nothing.
      try {
        actor.transaction(() => {
          actor.run("INSERT INTO items (id, name, qty) VALUES (9, 'gone', 9)");
          throw new Error("roll back");
        });
      } catch {}
      actor.db.delete(schema.pairs).where(eq(schema.pairs.a, "x")).run();
      return actor.history.changes().changes;
    });
    const groups = changes.map((c) => [c.tx, c.actor, c.op, c.table]);
    const [t1, t2, t3, t4, t5] = [...new Set(changes.map((c) => c.tx))];
    expect(groups).toEqual([
      [t1, "alice", "insert", "items"],
      [t1, "alice", "insert", "items"],
      [t1, "alice", "update", "items"],
      [t1, "alice", "update", "items"],
      [t2, null, "insert", "items"],
      [t2, null, "delete", "items"],
      [t3, null, "insert", "pairs"],
      [t3, null, "insert", "pairs"],
      [t4, null, "update", "pairs"],
      [t4, null, "update", "pairs"],
      [t4, null, "update", "pairs"],
      [t5, null, "delete", "pairs"],
    ]);
    expect(t1).toBe(changes[0].lsn); // a transaction's id is the LSN of its first change
    expect(changes.every((c) => c.at >= changes[0].at)).toBe(true);
  });

  it("an actor goes only to its own transaction; a transaction's changes share its time, which never decreases", async () => {
    const stub = freshHistory("tx-close");
    const { changes, mismatched } = await inside(stub, (actor, state) => {
      actor.transaction(() => {
        actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
        actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'b', 2)");
      });
      actor.transaction(() => actor.query("SELECT 1"), { actor: "nobody" }); // writes nothing
      actor.run("UPDATE items SET qty = 5 WHERE id = 1");
      actor.transaction(() => actor.query("SELECT * FROM items"), { actor: "nobody" });
      void state;
      actor.transaction(
        () => {
          actor.run("UPDATE items SET qty = 6 WHERE id = 2");
          actor.run("DELETE FROM items WHERE id = 1");
          actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 3)");
        },
        { actor: "carol" },
      );
      actor.run("INSERT INTO items (id, name, qty) VALUES (4, 'd', 4)");
      // Every row of a transaction carries its time (readers take it from the first row).
      const [row] = actor.query<{ n: number }>(
        "SELECT count(*) AS n FROM _dosql_wal w JOIN _dosql_wal x ON x.lsn = w.tx WHERE w.at IS NOT x.at",
      );
      return { changes: actor.history.changes().changes, mismatched: row.n };
    });
    expect(mismatched).toBe(0);
    expect(changes.map((c) => [c.actor, c.op])).toEqual([
      [null, "insert"],
      [null, "insert"],
      [null, "update"],
      ["carol", "update"],
      ["carol", "delete"],
      ["carol", "insert"],
      [null, "insert"],
    ]);
    const txs = changes.map((c) => c.tx);
    expect(txs).toEqual([txs[0], txs[0], txs[2], txs[3], txs[3], txs[3], txs[6]]);
    expect(new Set(txs).size).toBe(4);
    for (let i = 1; i < changes.length; i++) expect(changes[i].at).toBeGreaterThanOrEqual(changes[i - 1].at);
  });

  it("a transaction left open by an older WAL format is closed on wake, and time stays ahead of it", async () => {
    const stub = freshHistory("tx-upgrade");
    const future = Date.now() + 3_600_000;
    // As WALs before trigger v4 were written: mark and time on the first row only, left open.
    await inside(stub, (actor, state) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
      const [{ l }] = actor.query<{ l: number }>("SELECT max(lsn) AS l FROM _dosql_wal");
      state.storage.sql.exec(
        "INSERT INTO _dosql_wal (lsn, tx, at, mark, tbl, op, pk, after) VALUES (?, ?, ?, -1, 'items', 'I', 7, '{}'), (?, ?, NULL, NULL, 'items', 'I', 8, '{}')",
        l + 1,
        l + 1,
        future,
        l + 2,
        l + 1,
      );
    });
    await evictDurableObject(stub);
    const changes = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'b', 2)");
      return actor.history.changes().changes;
    });
    const last = changes.at(-1)!;
    expect(last.key).toEqual({ id: 2 });
    expect(last.tx).toBe(last.lsn); // a transaction of its own, not joined to the old one
    expect(last.at).toBe(future); // never before the transaction it follows
  });

  it("a foreign-key cascade from a raw statement is one transaction with the parent delete", async () => {
    const stub = freshHistory("cascade");
    const changes = await inside(stub, (actor, state) => {
      actor.transaction(() => {
        actor.run("INSERT INTO folders (id, parent_id, name) VALUES (1, NULL, 'root'), (2, 1, 'sub')");
        actor.run("INSERT INTO files (id, folder_id, name) VALUES (10, 1, 'a'), (11, 2, 'b'), (12, 2, 'c')");
      });
      const from = actor.history.changes().nextLsn;
      state.storage.sql.exec("DELETE FROM folders WHERE id = 1");
      return actor.history.changes({ fromLsn: from }).changes;
    });
    expect(changes.map((c) => `${c.table}:${c.op}:${Object.values(c.key)[0]}`).sort()).toEqual(
      [
        "files:delete:10",
        "files:delete:11",
        "files:delete:12",
        "folders:delete:1",
        "folders:delete:2",
      ].sort(),
    );
    expect(new Set(changes.map((c) => c.tx)).size).toBe(1);
  });

  it("composite keys, key changes (delete + insert) and rowHistory with who and when", async () => {
    const stub = freshHistory("rows");
    const { history, keyChange } = await inside(stub, (actor) => {
      actor.run("INSERT INTO pairs (a, b, v) VALUES ('k', 1, 'one')");
      actor.transaction(() => actor.run("UPDATE pairs SET v = 'two' WHERE a = 'k'"), { actor: "bob" });
      actor.run("UPDATE pairs SET b = 2 WHERE a = 'k'");
      return {
        history: actor.history.rowHistory("pairs", { a: "k", b: 1 }),
        keyChange: actor.history.rowHistory("pairs", ["k", 2]),
      };
    });
    expect(history.map((v) => [v.op, v.actor, v.row])).toEqual([
      ["insert", null, { a: "k", b: 1, v: "one" }],
      ["update", "bob", { a: "k", b: 1, v: "two" }],
      ["delete", null, null],
    ]);
    expect(history[1].changed).toEqual(["v"]);
    expect(history.every((v) => typeof v.at === "number" && v.at > 0)).toBe(true);
    expect(keyChange.map((v) => [v.op, v.row])).toEqual([["insert", { a: "k", b: 2, v: "two" }]]);
    expect(keyChange[0].tx).toBe(history[2].tx);
  });

  it("does not capture the append-only table, and refuses updates and deletes to it", async () => {
    const stub = freshHistory("append");
    const result = await inside(stub, (actor) => {
      actor.run("INSERT INTO events (kind, at) VALUES ('a', 1)");
      let error: unknown;
      try {
        actor.run("UPDATE events SET kind = 'b'");
      } catch (err) {
        error = err;
      }
      let deleteError: unknown;
      try {
        actor.run("DELETE FROM events"); // a deleted row would vanish from AS OF
      } catch (err) {
        deleteError = err;
      }
      return {
        changes: actor.history.changes().changes.length,
        error,
        deleteError,
        rows: actor.query("SELECT count(*) AS n FROM events"),
        status: actor.history.status(),
      };
    });
    expect(result.changes).toBe(0);
    expect(result.status.appendOnly).toEqual(["events"]);
    expect(result.status.tables.sort()).toEqual(["files", "folders", "items", "pairs"]);
    const { ActorError } = await import("../src/index");
    expect(ActorError.from(result.error)?.code).toBe("APPEND_ONLY");
    expect(ActorError.from(result.deleteError)?.code).toBe("APPEND_ONLY");
    expect(result.rows).toEqual([{ n: 1 }]);
  });
});

describe("capture across deploys and requests", () => {
  afterEach(() => {
    historyMigrations.current = historyV1;
  });

  it("regenerates triggers after a migration rebuilds a tracked table, without recording the migration", async () => {
    const stub = freshHistory("migrate");
    await stub.addItem(1, "before", 1);
    await stub.setQty(1, 2);
    const t0 = await inside(stub, () => Date.now());
    historyMigrations.current = historyV2;
    await evictDurableObject(stub);
    const after = await inside(stub, (actor) => {
      const lastAfterMigration = actor.history.status().lastLsn;
      actor.run("UPDATE items SET note = 'noted', qty = 3 WHERE id = 1");
      return {
        version: actor.schemaVersion(),
        lastAfterMigration,
        last: actor.history.changes({ fromLsn: lastAfterMigration + 1 }).changes,
        trigger: actor.query<{ sql: string }>(
          "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = '_dosql_h_items_u'",
        )[0].sql,
        past: actor.query("SELECT id, qty, note FROM items FOR SYSTEM_TIME AS OF ?", [t0]),
      };
    });
    expect(after.version.applied).toEqual(["0001_items_note"]);
    expect(after.lastAfterMigration).toBe(2); // the rebuild itself left no changes
    expect(after.trigger).toContain('"note"');
    expect(after.last.map((c) => [c.op, c.changed, c.after?.note])).toEqual([
      ["update", ["qty", "note"], "noted"],
    ]);
    // The first later change was made after the migration: its before image has the new column.
    expect(after.past).toEqual([{ id: 1, qty: 2, note: "none" }]);
  });

  it("tracks only the listed tables; keyIndex makes rowHistory a lookup", async () => {
    const stub = env.LISTED_HISTORY.getByName("listed");
    const changes = await runInDurableObject(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2)");
      actor.run("UPDATE items SET qty = 5 WHERE id = 2");
      actor.run("INSERT INTO pairs (a, b) VALUES ('p', 1)");
      return {
        feed: actor.history.changes().changes.map((c) => c.table),
        status: actor.history.status(),
        versions: actor.history.rowHistory("items", 2).map((v) => v.row?.qty),
        plan: actor
          .query<{ detail: string }>(
            "EXPLAIN QUERY PLAN SELECT * FROM _dosql_wal WHERE tbl = 'items' AND pk = 2",
          )
          .map((r) => r.detail),
      };
    });
    expect(changes.feed).toEqual(["items", "items", "items"]);
    expect(changes.status.tables).toEqual(["items"]);
    expect(changes.versions).toEqual([2, 5]);
    expect(changes.plan.join()).toContain("USING INDEX _dosql_wal_key");
    // Without keyIndex there is no index to maintain on writes.
    const plain = await inside(freshHistory("no-index"), (actor) =>
      actor.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_dosql_wal'"),
    );
    expect(plain).toEqual([]);
  });

  it("concurrent requests interleaving raw writes and transactions: every change once, each transaction whole", async () => {
    const stub = freshHistory("concurrent");
    await Promise.all(Array.from({ length: 30 }, (_, i) => stub.interleaved(i + 1)));
    const changes = await inside(stub, (actor) => actor.history.changes().changes);
    expect(changes.length).toBe(90);
    const byTx = new Map<number, typeof changes>();
    for (const c of changes) byTx.set(c.tx, [...(byTx.get(c.tx) ?? []), c]);
    expect(byTx.size).toBe(60);
    for (const group of byTx.values()) {
      const owners = new Set(group.map((c) => (c.table === "items" ? `c${c.key.id}` : c.key.a)));
      expect(owners.size).toBe(1);
      const shape = group.map((c) => `${c.table}:${c.op}`).join(",");
      if (group[0].actor === null) expect(shape).toBe("pairs:insert");
      else {
        expect(shape).toBe("items:insert,pairs:update");
        expect(group[0].actor).toBe([...owners][0]);
      }
    }
    // And the tables agree with the feed.
    const counts = await inside(stub, (actor) =>
      actor.query("SELECT count(*) AS n FROM pairs WHERE v = 'tx'"),
    );
    expect(counts).toEqual([{ n: 30 }]);
  });
});

describe("change feed", () => {
  it("pages resume exactly (no gaps, no duplicates), across evictions, and by table", async () => {
    const stub = freshHistory("feed");
    for (let i = 1; i <= 25; i++) {
      await stub.addItem(i, `i${i}`, i);
      if (i % 5 === 0) await stub.setQty(i, 0);
      if (i % 10 === 0) await evictDurableObject(stub);
    }
    await inside(stub, (actor) => actor.run("INSERT INTO pairs (a, b) VALUES ('p', 1)"));
    const seen: number[] = [];
    let from = 1;
    for (;;) {
      const page = await inside(stub, (actor) => actor.history.changes({ fromLsn: from, limit: 4 }));
      seen.push(...page.changes.map((c) => c.lsn));
      if (page.changes.length === 0) break;
      from = page.nextLsn;
      await evictDurableObject(stub);
    }
    expect(seen).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    const onlyPairs = await inside(stub, (actor) => actor.history.changes({ tables: ["pairs"] }));
    expect(onlyPairs.changes.map((c) => c.lsn)).toEqual([31]);
    expect(onlyPairs.nextLsn).toBe(32);
    // New changes after the end of the feed arrive at exactly nextLsn.
    await stub.addItem(99, "late", 1);
    const tail = await inside(stub, (actor) => actor.history.changes({ fromLsn: from }));
    expect(tail.changes.map((c) => [c.lsn, c.key])).toEqual([[32, { id: 99 }]]);
  });

  it("is reachable over RPC: await stub.history, then call it", async () => {
    const stub = freshHistory("rpc");
    await stub.addItem(1, "a", 1);
    const history = await stub.history;
    const page = await history.changes({ fromLsn: 1 });
    expect(page.changes.map((c) => c.op)).toEqual(["insert"]);
    expect((await history.status()).lastLsn).toBe(1);
  });

  it("rejects bad input with typed errors", async () => {
    const history = await freshHistory("bad").history;
    const codes = await Promise.all([
      codeOf(history.changes({ fromLsn: 0 })),
      codeOf(history.changes({ fromLsn: 1.5 })),
      codeOf(history.changes({ limit: 0 })),
      codeOf(history.changes({ limit: 100_000 })),
      codeOf(history.changes({ tables: ["nope"] })),
      codeOf(history.changes({ tables: ["events"] })),
      codeOf(history.rowHistory("items", { wrong: 1 })),
      codeOf(history.rowHistory("missing", 1)),
      codeOf(history.rowHistory("items", [1, 2])),
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "HISTORY_NOT_TRACKED",
      "HISTORY_NOT_TRACKED",
      "VALIDATION_FAILED",
      "HISTORY_NOT_TRACKED",
      "VALIDATION_FAILED",
    ]);
  });

  it("an actor without history answers HISTORY_DISABLED, and its queries are untouched", async () => {
    const stub = env.NO_HISTORY.getByName("disabled");
    expect((await codeOf((await stub.history).changes()))?.code).toBe("HISTORY_DISABLED");
    expect((await codeOf(stub.restoreTo(Date.now())))?.code).toBe("HISTORY_DISABLED");
    expect((await codeOf(stub.undo(1)))?.code).toBe("HISTORY_DISABLED");
    const rows = await inside(stub as never, (actor: any) => [
      actor.query("SELECT 'FOR SYSTEM_TIME AS OF' AS s"),
      actor.query("SELECT name FROM sqlite_master WHERE name LIKE '_dosql_wal%'"),
    ]);
    expect(rows).toEqual([[{ s: "FOR SYSTEM_TIME AS OF" }], []]);
    expect(
      (
        await codeOf(
          inside(stub as never, (actor: any) => actor.query("SELECT * FROM items FOR SYSTEM_TIME ALL")),
        )
      )?.code,
    ).toBe("HISTORY_DISABLED");
  });
});
