import { describe, expect, it } from "vitest";
import { freshHistory, inside } from "./history-helpers";

type Wal = { lsn: number; tx: number; actor: string | null; mark: number | null }[];
const WAL = "SELECT lsn, tx, actor, mark FROM _dosql_wal ORDER BY lsn";

describe("a transaction's close is owed: the next statement that may capture runs it", () => {
  it("is carried by the next write through the actor (not by reads), or run after the synchronous work", async () => {
    const stub = freshHistory("owed");
    const seen = await inside(stub, (actor, state) => {
      const wal = () => state.storage.sql.exec(WAL).toArray() as Wal;
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)"));
      const afterCommit = wal();
      actor.query("SELECT * FROM items");
      actor.transaction(() => actor.query("SELECT count(*) FROM items"));
      const afterReads = wal();
      actor.transaction(() => {
        actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'b', 2)");
        actor.run("UPDATE items SET qty = 3 WHERE id = 1");
      });
      return { afterCommit, afterReads, afterNext: wal() };
    });
    // Still open after its commit and after reads: nothing of history ran for them.
    expect(seen.afterCommit).toEqual([{ lsn: 1, tx: 1, actor: null, mark: -1 }]);
    expect(seen.afterReads).toEqual(seen.afterCommit);
    // The next transaction's first write closed it first: its changes are a transaction of their own.
    expect(seen.afterNext).toEqual([
      { lsn: 1, tx: 1, actor: null, mark: null },
      { lsn: 2, tx: 2, actor: null, mark: -1 },
      { lsn: 3, tx: 2, actor: null, mark: -1 },
    ]);
    // Once the synchronous work is over, the owed close has run (a close clears the newest row's mark).
    expect(await inside(stub, (actor) => actor.query(WAL))).toEqual([
      { lsn: 1, tx: 1, actor: null, mark: null },
      { lsn: 2, tx: 2, actor: null, mark: -1 },
      { lsn: 3, tx: 2, actor: null, mark: null },
    ]);
  });

  it("a rolled-back transaction undoes the close it carried, so the close is owed again", async () => {
    const stub = freshHistory("owed-rollback");
    const wal = await inside(stub, (actor) => {
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)"));
      try {
        actor.transaction(() => {
          actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'gone', 2)");
          throw new Error("roll back");
        });
      } catch {}
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 3)"));
      return actor.query(WAL) as Wal;
    });
    expect(wal.map((r) => [r.lsn, r.tx])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("a nested transaction that rolls back does not undo it (it is run before the savepoint)", async () => {
    const stub = freshHistory("owed-nested");
    const wal = await inside(stub, (actor) => {
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)"));
      actor.transaction(() => {
        try {
          actor.transaction(() => {
            actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'gone', 2)");
            throw new Error("roll back the inner one");
          });
        } catch {}
        actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 3)");
      });
      return actor.query(WAL) as Wal;
    });
    expect(wal.map((r) => [r.lsn, r.tx])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("a part's transaction (raw writes: undo) closes it first, so the undo is its own transaction", async () => {
    const stub = freshHistory("owed-undo");
    const wal = await inside(stub, (actor) => {
      actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)");
      actor.transaction(() => actor.run("UPDATE items SET qty = 2 WHERE id = 1"));
      actor.undo(2);
      return actor.query(WAL) as Wal;
    });
    expect(wal).toEqual([
      { lsn: 1, tx: 1, actor: null, mark: null },
      { lsn: 2, tx: 2, actor: null, mark: null },
      { lsn: 3, tx: 3, actor: "undo", mark: null },
    ]);
  });

  it("a transaction with an actor is closed at its commit", async () => {
    const stub = freshHistory("owed-actor");
    const wal = await inside(stub, (actor) => {
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'a', 1)"));
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (2, 'b', 2)"), {
        actor: "bob",
      });
      return actor.query(WAL) as Wal;
    });
    expect(wal).toEqual([
      { lsn: 1, tx: 1, actor: null, mark: null },
      { lsn: 2, tx: 2, actor: "bob", mark: null },
    ]);
  });
});
