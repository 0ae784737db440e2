import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { codeOf, freshHistory, inside } from "./history-helpers";

let seq = 0;
const branchName = (prefix: string) => `${prefix}-branch-${Date.now()}-${seq++}`;
const ITEMS = "SELECT id, name, qty FROM items ORDER BY id";

async function withBranch(prefix: string) {
  const main = freshHistory(prefix);
  await inside(main, (actor) =>
    actor.transaction(() => {
      actor.run(
        "INSERT INTO items (id, name, qty) VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3), (4, 'four', 4)",
      );
      actor.run(
        "INSERT INTO folders (id, parent_id, name) VALUES (3, NULL, 'root'), (2, 3, 'sub'), (1, 2, 'deep')",
      );
      actor.run("INSERT INTO files (id, folder_id, name) VALUES (10, 1, 'f')");
      actor.run("INSERT INTO events (kind, at) VALUES ('seeded', 1)");
    }),
  );
  const name = branchName(prefix);
  const created = await main.branch(name);
  return { main, branch: env.HISTORY.getByName(name), name, created };
}

describe("branch", () => {
  it("creates an actor of the same class seeded with a snapshot, whose history starts at the fork", async () => {
    const { main, branch, name, created } = await withBranch("fork");
    expect(created).toMatchObject({ name, rows: 9 });
    const [m, b] = await Promise.all(
      [main, branch].map((stub) =>
        inside(stub, (actor) => ({
          items: actor.query(ITEMS),
          folders: actor.query("SELECT * FROM folders ORDER BY id"),
          files: actor.query("SELECT * FROM files"),
          events: actor.query("SELECT kind FROM events"),
          version: actor.schemaVersion().version,
          status: actor.history.status(),
          changes: actor.history.changes().changes.length,
        })),
      ),
    );
    expect(b.items).toEqual(m.items);
    expect(b.folders).toEqual(m.folders);
    expect(b.files).toEqual(m.files);
    expect(b.events).toEqual(m.events);
    expect(b.version).toBe(m.version);
    expect(b.changes).toBe(0);
    expect(b.status.fork).toMatchObject({ forkLsn: created.forkLsn });
    expect(m.status.branches.map((x) => x.name)).toEqual([name]);
    // The branch is an ordinary actor: it records its own changes from here on.
    await branch.setQty(1, 100);
    const branchChanges = await inside(branch, (actor) => actor.history.changes().changes);
    expect(branchChanges.map((c) => [c.op, c.key])).toEqual([["update", { id: 1 }]]);
    expect((await main.items())[0].qty).toBe(1);
  });

  it("refuses bad names, an existing branch, and an actor that already holds data", async () => {
    const { main, name } = await withBranch("names");
    const busy = freshHistory("busy");
    await busy.addItem(1, "x", 1);
    const busyName = await inside(busy, (_actor, state) => state.id.name!);
    const codes = await Promise.all([
      codeOf(main.branch("")),
      codeOf(main.branch("has space")),
      codeOf(main.branch("x".repeat(129))),
      codeOf(main.branch(name)),
      codeOf(main.branch(busyName)),
      codeOf(main.merge("never-branched")),
      codeOf(main.merge(name, { onConflict: "maybe" as never })),
    ]);
    expect(codes.map((e) => e?.code)).toEqual([
      "INVALID_NAME",
      "INVALID_NAME",
      "INVALID_NAME",
      "BRANCH_EXISTS",
      "BRANCH_EXISTS",
      "BRANCH_NOT_FOUND",
      "VALIDATION_FAILED",
    ]);
    expect((await busy.items()).map((i) => i.name)).toEqual(["x"]);
  });
  it("seeds an actor that holds only the runtime's own tables (wrangler dev's __miniflare_do_name)", async () => {
    const { main } = await withBranch("miniflare");
    // Under `wrangler dev` every actor reached by name holds this table with its name in it.
    const target = freshHistory("mf-target");
    const targetName = await inside(target, (_actor, state) => {
      state.storage.sql.exec("CREATE TABLE IF NOT EXISTS __miniflare_do_name (name TEXT PRIMARY KEY)");
      state.storage.sql.exec("INSERT OR IGNORE INTO __miniflare_do_name (name) VALUES (?)", state.id.name!);
      return state.id.name!;
    });
    await expect(main.branch(targetName)).resolves.toMatchObject({ name: targetName, rows: 9 });
    expect((await target.items()).map((i) => i.name)).toEqual(["one", "two", "three", "four"]);
  });
});

describe("merge", () => {
  it("applies the branch's changes to rows main did not touch, keeps main's own, records one transaction", async () => {
    const { main, branch, name } = await withBranch("clean");
    await inside(branch, (actor) => {
      actor.run("UPDATE items SET qty = 10 WHERE id = 1");
      actor.run("DELETE FROM items WHERE id = 2");
      actor.run("INSERT INTO items (id, name, qty) VALUES (5, 'five', 5)");
      actor.run("INSERT INTO folders (id, parent_id, name) VALUES (4, 1, 'deeper')");
      actor.run("INSERT INTO files (id, folder_id, name) VALUES (11, 4, 'g')");
      actor.run("UPDATE items SET qty = 4 WHERE id = 4"); // no-op: nothing recorded
    });
    await inside(main, (actor) => {
      actor.run("UPDATE items SET name = 'THREE' WHERE id = 3");
      actor.run("INSERT INTO items (id, name, qty) VALUES (6, 'six', 6)");
    });
    const result = await main.merge(name);
    expect(result).toMatchObject({ branch: name, merged: true, conflicts: [] });
    expect(await inside(main, (actor) => actor.query(ITEMS))).toEqual([
      { id: 1, name: "one", qty: 10 },
      { id: 3, name: "THREE", qty: 3 },
      { id: 4, name: "four", qty: 4 },
      { id: 5, name: "five", qty: 5 },
      { id: 6, name: "six", qty: 6 },
    ]);
    expect(await inside(main, (actor) => actor.query("SELECT id, folder_id FROM files ORDER BY id"))).toEqual(
      [
        { id: 10, folder_id: 1 },
        { id: 11, folder_id: 4 },
      ],
    );
    const recorded = await inside(main, (actor) => actor.history.changes({ fromLsn: result.tx! }).changes);
    expect(recorded.length).toBe(result.changes);
    expect(new Set(recorded.map((c) => c.actor))).toEqual(new Set([`merge:${name}`]));
    // The merge is undoable like any transaction.
    await main.undo(result.tx!);
    expect((await main.items()).map((i) => i.id)).toEqual([1, 2, 3, 4, 6]);
  });

  it("merge's inside runs in the merge's transaction: its writes commit with it, its throw undoes it all", async () => {
    const { main, name } = await withBranch("inside");
    const branch = env.HISTORY.getByName(name);
    await inside(branch, (actor) => actor.run("UPDATE items SET qty = 10 WHERE id = 1"));
    const refused = await inside(main, async (actor) => {
      try {
        await actor.merge(name, {
          inside: () => {
            actor.run("UPDATE items SET name = 'x' WHERE id = 3");
            throw new Error("the caller's own write failed");
          },
        });
        return "merged";
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(refused).toBe("the caller's own write failed");
    // Nothing of it stayed, and the branch is not marked merged: the next merge brings the same change.
    expect(await inside(main, (actor) => actor.query(ITEMS))).toEqual([
      { id: 1, name: "one", qty: 1 },
      { id: 2, name: "two", qty: 2 },
      { id: 3, name: "three", qty: 3 },
      { id: 4, name: "four", qty: 4 },
    ]);
    const { result, seen } = await inside(main, async (actor) => {
      let seen: unknown;
      const result = await actor.merge(name, {
        inside: (merged) => {
          seen = merged;
          actor.run("UPDATE items SET name = 'merged' WHERE id = 3");
        },
      });
      return { result, seen };
    });
    expect(seen).toEqual({ tx: result.tx, changes: 1 });
    expect(result).toMatchObject({ merged: true, changes: 2 });
    const recorded = await inside(main, (actor) => actor.history.changes({ fromLsn: result.tx! }).changes);
    expect(recorded.map((c) => [c.tx, c.key])).toEqual([
      [result.tx, { id: 1 }],
      [result.tx, { id: 3 }],
    ]);
    expect((await inside(main, (actor) => actor.query(ITEMS))).slice(0, 3)).toEqual([
      { id: 1, name: "one", qty: 10 },
      { id: 2, name: "two", qty: 2 },
      { id: 3, name: "merged", qty: 3 },
    ]);
    expect((await codeOf(inside(main, (actor) => actor.merge(name, { inside: 5 as never }))))?.code).toBe(
      "VALIDATION_FAILED",
    );
  });

  it("reports rows both sides changed differently: fail writes nothing, ours keeps main's, theirs takes the branch's", async () => {
    const setup = async (policy: string) => {
      const { main, branch, name } = await withBranch(`conflict-${policy}`);
      await inside(branch, (actor) => {
        actor.run("UPDATE items SET qty = 100 WHERE id = 1"); // conflict: main sets 200
        actor.run("UPDATE items SET qty = 300 WHERE id = 2"); // same change on both sides: no conflict
        actor.run("DELETE FROM items WHERE id = 3"); // conflict: main renames it
        actor.run("UPDATE items SET name = 'FOUR' WHERE id = 4"); // clean
      });
      await inside(main, (actor) => {
        actor.run("UPDATE items SET qty = 200 WHERE id = 1");
        actor.run("UPDATE items SET qty = 300 WHERE id = 2");
        actor.run("UPDATE items SET name = 'tres' WHERE id = 3");
      });
      return { main, name };
    };

    const fail = await setup("fail");
    const lastBefore = await inside(fail.main, (actor) => actor.history.status().lastLsn);
    const failed = await fail.main.merge(fail.name, { onConflict: "fail" });
    expect(failed.merged).toBe(false);
    expect(failed.changes).toBe(0);
    expect(failed.conflicts).toEqual([
      {
        table: "items",
        key: { id: 1 },
        base: { id: 1, name: "one", qty: 1, price: null, data: null },
        ours: { id: 1, name: "one", qty: 200, price: null, data: null },
        theirs: { id: 1, name: "one", qty: 100, price: null, data: null },
      },
      {
        table: "items",
        key: { id: 3 },
        base: { id: 3, name: "three", qty: 3, price: null, data: null },
        ours: { id: 3, name: "tres", qty: 3, price: null, data: null },
        theirs: null,
      },
    ]);
    expect(await inside(fail.main, (actor) => actor.history.status().lastLsn)).toBe(lastBefore);
    expect(await fail.main.items()).toEqual([
      { id: 1, name: "one", qty: 200 },
      { id: 2, name: "two", qty: 300 },
      { id: 3, name: "tres", qty: 3 },
      { id: 4, name: "four", qty: 4 },
    ]);

    const ours = await setup("ours");
    const keptOurs = await ours.main.merge(ours.name, { onConflict: "ours" });
    expect(keptOurs.merged).toBe(true);
    expect(keptOurs.conflicts.map((c) => c.key)).toEqual([{ id: 1 }, { id: 3 }]);
    expect(await ours.main.items()).toEqual([
      { id: 1, name: "one", qty: 200 },
      { id: 2, name: "two", qty: 300 },
      { id: 3, name: "tres", qty: 3 },
      { id: 4, name: "FOUR", qty: 4 },
    ]);

    const theirs = await setup("theirs");
    const tookTheirs = await theirs.main.merge(theirs.name, { onConflict: "theirs" });
    expect(tookTheirs.conflicts.length).toBe(2);
    expect(await theirs.main.items()).toEqual([
      { id: 1, name: "one", qty: 100 },
      { id: 2, name: "two", qty: 300 },
      { id: 4, name: "FOUR", qty: 4 },
    ]);
  });

  it("a second merge brings only what changed since the first, against the right base", async () => {
    const { main, branch, name } = await withBranch("again");
    await branch.setQty(1, 11);
    await main.setQty(2, 22);
    expect((await main.merge(name)).conflicts).toEqual([]);
    // Main changes row 2 again, the branch (which never saw main's 22) changes row 2 too: a conflict,
    // while the branch's second change to row 1 applies cleanly.
    await branch.setQty(2, 99);
    await branch.setQty(1, 12);
    const second = await main.merge(name);
    expect(second.merged).toBe(false);
    expect(second.conflicts.map((c) => [c.key, c.base?.qty, c.ours?.qty, c.theirs?.qty])).toEqual([
      [{ id: 2 }, 2, 22, 99],
    ]);
    const resolved = await main.merge(name, { onConflict: "ours" });
    expect(resolved.merged).toBe(true);
    expect((await main.items()).map((i) => i.qty)).toEqual([12, 22, 3, 4]);
    // Nothing new on the branch: nothing to merge.
    expect(await main.merge(name)).toMatchObject({ merged: true, changes: 0, conflicts: [] });
  });
});

describe("merge and foreign keys", () => {
  it("a branch's delete of a parent never cascades silently into rows main added after the fork", async () => {
    const { main, branch, name } = await withBranch("merge-cascade");
    await inside(branch, (actor) => actor.run("DELETE FROM folders WHERE id = 1")); // cascades file 10 there
    await inside(main, (actor) =>
      actor.run("INSERT INTO files (id, folder_id, name) VALUES (11, 1, 'new on main')"),
    );
    const refused = await main.merge(name);
    expect(refused.merged).toBe(false);
    expect(refused.conflicts).toEqual([
      expect.objectContaining({ table: "files", key: { id: 11 }, cascade: true, theirs: null }),
    ]);
    expect(await inside(main, (actor) => actor.query("SELECT id FROM files ORDER BY id"))).toEqual([
      { id: 10 },
      { id: 11 },
    ]);
    // "theirs" applies the branch and reports what the cascade took with it.
    const forced = await main.merge(name, { onConflict: "theirs" });
    expect(forced.merged).toBe(true);
    expect(forced.conflicts.map((c) => [c.table, c.key, c.cascade])).toEqual([["files", { id: 11 }, true]]);
    expect(await inside(main, (actor) => actor.query("SELECT id FROM files"))).toEqual([]);
  });
});

describe("merge and a foreign key to the same table", () => {
  async function roots(prefix: string, mainSql: string) {
    const main = freshHistory(prefix);
    await inside(main, (actor) =>
      actor.run("INSERT INTO folders (id, parent_id, name) VALUES (5, NULL, 'five'), (6, NULL, 'six')"),
    );
    await inside(main, (actor) => actor.run(mainSql));
    const name = branchName(prefix);
    await main.branch(name);
    return { main, branch: env.HISTORY.getByName(name), name };
  }

  it("a row both sides' changes would make its own ancestor stops the merge under every policy", async () => {
    const { main, branch, name } = await roots("loop", "SELECT 1");
    await inside(main, (actor) => actor.run("UPDATE folders SET parent_id = 6 WHERE id = 5"));
    await inside(branch, (actor) => actor.run("UPDATE folders SET parent_id = 5 WHERE id = 6"));
    for (const onConflict of ["fail", "ours", "theirs"] as const) {
      const result = await main.merge(name, { onConflict });
      expect(result).toMatchObject({ merged: false, changes: 0 });
      expect(result.conflicts).toEqual([
        expect.objectContaining({
          table: "folders",
          key: { id: 6 },
          cycle: true,
          theirs: expect.objectContaining({ parent_id: 5 }),
        }),
      ]);
    }
    const folders = await inside(main, (actor) =>
      actor.query("SELECT id, parent_id FROM folders WHERE id > 4"),
    );
    expect(folders).toEqual([
      { id: 5, parent_id: 6 },
      { id: 6, parent_id: null },
    ]);
  });

  it("a loop the rows already made before the merge does not stop it", async () => {
    const { main, branch, name } = await roots(
      "old-loop",
      "UPDATE folders SET parent_id = CASE id WHEN 5 THEN 6 ELSE 5 END WHERE id IN (5, 6)",
    );
    await inside(branch, (actor) => actor.run("UPDATE folders SET name = 'six, renamed' WHERE id = 6"));
    expect(await main.merge(name)).toMatchObject({ merged: true, changes: 1, conflicts: [] });
  });
});
