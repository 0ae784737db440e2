import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { codeOf, freshHistory, inside, pointInTime } from "./history-helpers";

const STATE = {
  items: "SELECT id, name, qty, price, hex(data) AS data FROM items ORDER BY id",
  pairs: "SELECT a, b, v FROM pairs ORDER BY a, b",
  folders: "SELECT id, parent_id, name FROM folders ORDER BY id",
  files: "SELECT id, folder_id, name FROM files ORDER BY id",
  events: "SELECT kind FROM events ORDER BY id",
};
type State = Record<keyof typeof STATE, unknown[]>;
const read = (actor: { query(sql: string): unknown[] }): State =>
  Object.fromEntries(Object.entries(STATE).map(([k, sql]) => [k, actor.query(sql)])) as State;

async function seeded(prefix: string) {
  const stub = freshHistory(prefix);
  await inside(stub, (actor) =>
    actor.transaction(() => {
      actor.run(
        "INSERT INTO items (id, name, qty, price, data) VALUES (1, 'a', 1, 0.5, x'00ff'), (2, 'b', 2, NULL, NULL)",
      );
      actor.run("INSERT INTO pairs (a, b, v) VALUES ('p', 1, 'one'), ('q', 2, 'two')");
      actor.run(
        "INSERT INTO folders (id, parent_id, name) VALUES (1, NULL, 'root'), (2, 1, 'sub'), (3, 2, 'deep')",
      );
      actor.run("INSERT INTO files (id, folder_id, name) VALUES (10, 2, 'x'), (11, 3, 'y')");
      actor.run("INSERT INTO events (kind, at) VALUES ('seeded', 1)");
    }),
  );
  return stub;
}

describe("restoreTo", () => {
  it("puts every tracked table back as one recorded transaction, and a restore can be restored away", async () => {
    const stub = await seeded("restore");
    const t0 = await pointInTime(stub);
    const before = await inside(stub, read);
    await inside(stub, (actor, state) => {
      actor.run("UPDATE items SET qty = 100, data = NULL WHERE id = 1");
      actor.run("DELETE FROM items WHERE id = 2");
      actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'new', 3)");
      state.storage.sql.exec("UPDATE pairs SET b = 5 WHERE a = 'p'"); // a key change
      actor.run("DELETE FROM folders WHERE id = 2"); // cascades to folder 3 and both files
      actor.run("INSERT INTO folders (id, parent_id, name) VALUES (4, 1, 'other')");
      actor.run("INSERT INTO events (kind, at) VALUES ('changed', 2)");
    });
    const t1 = await pointInTime(stub);
    const changed = await inside(stub, read);
    expect(changed.files).toEqual([]);

    const result = await stub.restoreTo(t0);
    const restored = await inside(stub, read);
    expect({ ...restored, events: before.events }).toEqual(before);
    // The log keeps its record of what happened: append-only tables are not rewound.
    expect(restored.events).toEqual([{ kind: "seeded" }, { kind: "changed" }]);
    expect(result.restoredTo).toBe(t0);
    expect(result.tx).not.toBeNull();
    const recorded = await inside(stub, (actor) => actor.history.changes({ fromLsn: result.tx! }).changes);
    expect(recorded.length).toBe(result.changes);
    expect(new Set(recorded.map((c) => c.tx))).toEqual(new Set([result.tx]));
    expect(new Set(recorded.map((c) => c.actor))).toEqual(new Set(["restore"]));

    // Restoring to just before the restore undoes it.
    const again = await stub.restoreTo(t1, { actor: "ops" });
    expect({ ...(await inside(stub, read)), events: changed.events }).toEqual(changed);
    expect(again.changes).toBe(result.changes);
    // Restoring to the present changes nothing and records nothing.
    const none = await stub.restoreTo(Date.now() + 1);
    expect(none).toMatchObject({ tx: null, changes: 0 });
  });

  it("restores only the tables asked for", async () => {
    const stub = await seeded("subset");
    const t0 = await pointInTime(stub);
    await inside(stub, (actor) => {
      actor.run("UPDATE items SET qty = 7");
      actor.run("UPDATE pairs SET v = 'changed'");
    });
    await stub.restoreTo(t0, { tables: ["items"] });
    const state = await inside(stub, read);
    expect(state.items.map((r) => (r as { qty: number }).qty)).toEqual([1, 2]);
    expect(state.pairs.map((r) => (r as { v: string }).v)).toEqual(["changed", "changed"]);
  });

  it("refuses a restore that would break a foreign key, and writes nothing", async () => {
    const stub = await seeded("fk");
    const t0 = await pointInTime(stub);
    await inside(stub, (actor) => actor.run("DELETE FROM folders WHERE id = 3")); // cascades to file 11
    const lastBefore = await inside(stub, (actor) => actor.history.status().lastLsn);
    // Rewinding files alone would bring back file 11 in folder 3, which no longer exists.
    const err = await codeOf(stub.restoreTo(t0, { tables: ["files"] }));
    expect(err?.code).toBe("FOREIGN_KEY_VIOLATION");
    expect(err?.details).toEqual({ table: "files", parent: "folders" });
    const after = await inside(stub, (actor) => ({
      state: read(actor),
      last: actor.history.status().lastLsn,
    }));
    expect(after.last).toBe(lastBefore);
    expect(after.state.files).toEqual([{ id: 10, folder_id: 2, name: "x" }]);
    // Rewinding both works: parents first.
    await stub.restoreTo(t0, { tables: ["files", "folders"] });
    expect((await inside(stub, read)).files).toHaveLength(2);
  });

  it("answers typed errors for bad input and times history does not cover", async () => {
    const stub = await seeded("bad");
    const codes = await Promise.all([
      codeOf(stub.restoreTo("not a time")),
      codeOf(stub.restoreTo(Number.NaN)),
      codeOf(stub.restoreTo(Date.now(), { tables: [] })),
      codeOf(stub.restoreTo(Date.now(), { tables: ["events"] })),
      codeOf(stub.restoreTo(Date.now(), { tables: ["nope"] })),
      codeOf(stub.restoreTo(Date.now() - 86_400_000)),
      codeOf(stub.restoreTo(Date.now(), { actor: 5 as never })),
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "HISTORY_NOT_TRACKED",
      "HISTORY_NOT_TRACKED",
      "HISTORY_UNAVAILABLE",
      "VALIDATION_FAILED",
    ]);
  });
});

describe("undo", () => {
  it("inverts one transaction (insert, update, delete) when no later change touched its rows, and can be undone", async () => {
    const stub = await seeded("undo");
    const before = await inside(stub, read);
    const tx = await inside(stub, (actor) => {
      actor.transaction(() => {
        actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 3)");
        actor.run("UPDATE items SET qty = 50, name = 'A' WHERE id = 1");
        actor.run("DELETE FROM pairs WHERE a = 'q'");
        actor.run("DELETE FROM folders WHERE id = 3"); // cascades to file 11
      });
      return actor.history.changes().changes.at(-1)!.tx;
    });
    // A later change to other rows does not block the undo.
    await inside(stub, (actor) => actor.run("UPDATE items SET qty = 9 WHERE id = 2"));
    const undone = await stub.undo(tx);
    const state = await inside(stub, read);
    expect(state).toEqual({
      ...before,
      items: [before.items[0], { ...(before.items[1] as object), qty: 9 }],
    });
    expect(undone.changes).toBe(5); // the five changes of the transaction, cascade included
    // Undo the undo: back to the state after the transaction.
    await stub.undo(undone.tx!);
    const redone = await inside(stub, read);
    expect(redone.items).toEqual([
      { id: 1, name: "A", qty: 50, price: 0.5, data: "00FF" },
      { id: 2, name: "b", qty: 9, price: null, data: "" }, // hex(NULL) is ''
      { id: 3, name: "c", qty: 3, price: null, data: "" },
    ]);
    expect(redone.files).toEqual([{ id: 10, folder_id: 2, name: "x" }]);
  });

  it("refuses with CONFLICT listing the rows a later change touched, and writes nothing", async () => {
    const stub = await seeded("conflict");
    const tx = await inside(stub, (actor) => {
      actor.transaction(() => {
        actor.run("UPDATE items SET qty = 10 WHERE id = 1");
        actor.run("UPDATE pairs SET v = 'x' WHERE a = 'p'");
        actor.run("UPDATE items SET qty = 20 WHERE id = 2");
      });
      return actor.history.changes().changes.at(-1)!.tx;
    });
    await inside(stub, (actor) => {
      actor.run("UPDATE items SET name = 'later' WHERE id = 2");
      actor.run("DELETE FROM pairs WHERE a = 'p'");
    });
    const state = await inside(stub, read);
    const err = await codeOf(stub.undo(tx));
    expect(err?.code).toBe("CONFLICT");
    expect(err?.status).toBe(409);
    const conflicts = ((err?.details?.conflicts ?? []) as { table: string; key: unknown }[]).map((c) => [
      c.table,
      c.key,
    ]);
    expect(conflicts).toEqual([
      ["items", { id: 2 }],
      ["pairs", { a: "p", b: 1 }],
    ]);
    expect(await inside(stub, read)).toEqual(state);
  });

  it("answers typed errors for unknown and bad transaction ids", async () => {
    const stub = await seeded("undo-bad");
    const lsn = await inside(stub, (actor) => actor.history.status().lastLsn);
    const codes = await Promise.all([
      codeOf(stub.undo(0)),
      codeOf(stub.undo(1.5)),
      codeOf(stub.undo("1" as never)),
      codeOf(stub.undo(lsn + 100)),
      codeOf(stub.undo(2)), // a change in the middle of transaction 1, not a transaction id
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "VALIDATION_FAILED",
      "TX_NOT_FOUND",
      "TX_NOT_FOUND",
    ]);
  });
});

describe("integers beyond 2^53 as keys", () => {
  // SQL literals: no JavaScript number holds these keys; each rounds to a neighbour as a number.
  const BIG = "(9007199254740993, 'a', 2), (-9223372036854775807, 'b', 3), (9223372036854775807, 'c', 4)";
  const rows = (actor: { query(sql: string): unknown[] }) =>
    actor.query("SELECT CAST(id AS TEXT) AS id, qty FROM items ORDER BY id");
  const bigRows = (factor: number) => [
    { id: "-9223372036854775807", qty: 3 * factor },
    { id: "1", qty: 1 },
    { id: "9007199254740993", qty: 2 * factor },
    { id: "9223372036854775807", qty: 4 * factor },
  ];

  it("undo and restoreTo reach rows keyed by them, exactly", async () => {
    const stub = freshHistory("bigkey");
    await inside(stub, (actor) => actor.run("INSERT INTO items (id, name, qty) VALUES (1, 'one', 1)"));
    const t0 = await pointInTime(stub);
    const tx = await inside(stub, (actor) => {
      actor.run(`INSERT INTO items (id, name, qty) VALUES ${BIG}`);
      return actor.history.changes().changes.at(-1)!.tx;
    });
    expect(await inside(stub, rows)).toEqual(bigRows(1));
    const undone = await stub.undo(tx);
    expect(undone.changes).toBe(3);
    expect(await inside(stub, rows)).toEqual([{ id: "1", qty: 1 }]);
    await stub.undo(undone.tx!);
    expect(await inside(stub, rows)).toEqual(bigRows(1));
    const t1 = await pointInTime(stub);
    await inside(stub, (actor) => actor.run("UPDATE items SET qty = qty * 100 WHERE id <> 1"));
    expect(await inside(stub, rows)).toEqual(bigRows(100));
    await stub.restoreTo(t1);
    expect(await inside(stub, rows)).toEqual(bigRows(1));
    await stub.restoreTo(t0);
    expect(await inside(stub, rows)).toEqual([{ id: "1", qty: 1 }]);
  });

  it("merge carries a branch's changes to them, exactly", async () => {
    const main = freshHistory("bigmerge");
    await inside(main, (actor) => {
      actor.run(`INSERT INTO items (id, name, qty) VALUES (1, 'one', 1), ${BIG}`);
      actor.run("UPDATE items SET data = iif(id = 1, 5, 2.5) WHERE id IN (1, -9223372036854775807)");
    });
    const name = `bigmerge-branch-${Date.now()}`;
    await main.branch(name);
    const branch = env.HISTORY.getByName(name);
    expect(await inside(branch, rows)).toEqual(bigRows(1)); // the seed carried them exactly
    // and the other values with their types: an INTEGER and a REAL in an untyped (BLOB) column.
    expect(await inside(branch, (a) => a.query("SELECT typeof(data) AS t FROM items ORDER BY id"))).toEqual([
      { t: "real" },
      { t: "integer" },
      { t: "null" },
      { t: "null" },
    ]);
    await inside(branch, (actor) => actor.run("UPDATE items SET qty = qty * 100 WHERE id <> 1"));
    const merged = await main.merge(name);
    expect(merged).toMatchObject({ merged: true, conflicts: [] });
    expect(await inside(main, rows)).toEqual(bigRows(100));
  });
});
