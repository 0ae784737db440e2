import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { cases, type MigratingHistoryActor, migrationCase, upTo } from "./fixtures/migration-actors";

// History across migrations: drizzle-kit's rename of `qty` to `quantity` (0001), an added
// `status` NOT NULL DEFAULT 'new' (0002), a dropped `legacy` (0003) and a hand-written data
// migration (0004: an UPDATE and a DELETE of its own), with history on every table.

let seq = 0;
type Stub = DurableObjectStub<MigratingHistoryActor>;
const tick = () => new Promise((r) => setTimeout(r, 5));

afterEach(() => {
  migrationCase.current = { migrations: {} };
});

async function deploy(stub: Stub, count: number): Promise<void> {
  migrationCase.current = upTo(cases.history, count);
  await evictDurableObject(stub);
  await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.schemaVersion());
}

const query = (stub: Stub, text: string, params: unknown[] = []) =>
  runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.query(text, params as never));

/** An actor at 0000 with three items; `t0` is a time when they were as first written, `t1` after an update. */
async function seeded(): Promise<{ stub: Stub; t0: number; t1: number }> {
  migrationCase.current = upTo(cases.history, 1);
  const stub = env.MIGRATING_HISTORY.getByName(`h-${Date.now()}-${seq++}`);
  await runInDurableObject(stub, (actor: MigratingHistoryActor) => {
    actor.run(
      "INSERT INTO items (id, name, qty, legacy) VALUES (1, 'a', 5, 'L1'), (2, 'b', 0, 'L2'), (3, 'obsolete', 7, NULL)",
    );
  });
  await tick();
  const t0 = Date.now();
  await tick();
  await runInDurableObject(stub, (actor: MigratingHistoryActor) =>
    actor.run("UPDATE items SET qty = 6 WHERE id = 1"),
  );
  await tick();
  const t1 = Date.now();
  await tick();
  return { stub, t0, t1 };
}

describe("history across migrations", () => {
  it("a renamed column: AS OF and restoreTo before and after the rename use today's name", async () => {
    const { stub, t0, t1 } = await seeded();
    await deploy(stub, 2);
    const asOf = (t: number) =>
      query(stub, "SELECT id, name, quantity FROM items FOR SYSTEM_TIME AS OF ? ORDER BY id", [t]);
    expect(await asOf(t0)).toEqual([
      { id: 1, name: "a", quantity: 5 },
      { id: 2, name: "b", quantity: 0 },
      { id: 3, name: "obsolete", quantity: 7 },
    ]);
    expect((await asOf(t1))[0]).toEqual({ id: 1, name: "a", quantity: 6 });
    // A change after the rename, then back to before it.
    await runInDurableObject(stub, (actor: MigratingHistoryActor) =>
      actor.run("UPDATE items SET quantity = 9 WHERE id = 2"),
    );
    await tick();
    const t2 = Date.now();
    await tick();
    await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.restoreTo(t0));
    expect(await query(stub, "SELECT id, quantity FROM items ORDER BY id")).toEqual([
      { id: 1, quantity: 5 },
      { id: 2, quantity: 0 },
      { id: 3, quantity: 7 },
    ]);
    // The restore is itself recorded: AS OF t2 still shows the state after the rename.
    expect(await asOf(t2)).toEqual([
      { id: 1, name: "a", quantity: 6 },
      { id: 2, name: "b", quantity: 9 },
      { id: 3, name: "obsolete", quantity: 7 },
    ]);
    await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.restoreTo(t1));
    expect(await query(stub, "SELECT id, quantity FROM items ORDER BY id")).toEqual([
      { id: 1, quantity: 6 },
      { id: 2, quantity: 0 },
      { id: 3, quantity: 7 },
    ]);
  });

  it("an added column with a default: AS OF before it gives the default for every row, changed or not", async () => {
    const { stub, t0 } = await seeded();
    await deploy(stub, 3);
    expect(
      await query(stub, "SELECT id, quantity, status FROM items FOR SYSTEM_TIME AS OF ? ORDER BY id", [t0]),
    ).toEqual([
      { id: 1, quantity: 5, status: "new" },
      { id: 2, quantity: 0, status: "new" },
      { id: 3, quantity: 7, status: "new" },
    ]);
  });

  it("a dropped column is gone from old images too; AS OF and restoreTo still work", async () => {
    const { stub, t0 } = await seeded();
    await deploy(stub, 4);
    expect(await query(stub, "SELECT * FROM items FOR SYSTEM_TIME AS OF ? ORDER BY id", [t0])).toEqual([
      { id: 1, name: "a", quantity: 5, status: "new" },
      { id: 2, name: "b", quantity: 0, status: "new" },
      { id: 3, name: "obsolete", quantity: 7, status: "new" },
    ]);
    const images = await runInDurableObject(stub, (_actor, state) =>
      state.storage.sql
        .exec("SELECT count(*) AS n FROM _dosql_wal WHERE before LIKE '%legacy%' OR after LIKE '%legacy%'")
        .one(),
    );
    expect(images.n).toBe(0);
    await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.restoreTo(t0));
    expect((await query(stub, "SELECT quantity FROM items WHERE id = 1"))[0]).toEqual({ quantity: 5 });
  });

  it("a data migration is recorded as its own transaction, with the migration's tag as actor", async () => {
    const { stub } = await seeded();
    await deploy(stub, 4);
    await tick();
    const beforeData = Date.now();
    await tick();
    await deploy(stub, 5);
    expect(await query(stub, "SELECT id, status FROM items ORDER BY id")).toEqual([
      { id: 1, status: "new" },
      { id: 2, status: "empty" },
    ]);
    const changes = await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.history.changes());
    const own = changes.changes.filter((c) => c.actor === "0004_v5");
    expect(own.map((c) => [c.op, c.key])).toEqual([
      ["update", { id: 2 }],
      ["delete", { id: 3 }],
    ]);
    expect(new Set(own.map((c) => c.tx)).size).toBe(1);
    // Its own transaction: nothing else shares it.
    expect(changes.changes.filter((c) => c.tx === own[0].tx)).toHaveLength(2);
    expect(
      await query(stub, "SELECT id, status FROM items FOR SYSTEM_TIME AS OF ? ORDER BY id", [beforeData]),
    ).toEqual([
      { id: 1, status: "new" },
      { id: 2, status: "new" },
      { id: 3, status: "new" },
    ]);
  });

  it("a renamed table keeps its history under the new name", async () => {
    const { stub, t0 } = await seeded();
    migrationCase.current = upTo(cases.history, 1, [
      "0001_products",
      "ALTER TABLE `items` RENAME TO `products`",
    ]);
    await evictDurableObject(stub);
    expect(
      await query(stub, "SELECT id, qty FROM products FOR SYSTEM_TIME AS OF ? ORDER BY id", [t0]),
    ).toEqual([
      { id: 1, qty: 5 },
      { id: 2, qty: 0 },
      { id: 3, qty: 7 },
    ]);
    await runInDurableObject(stub, (actor: MigratingHistoryActor) => actor.restoreTo(t0));
    expect((await query(stub, "SELECT qty FROM products WHERE id = 1"))[0]).toEqual({ qty: 5 });
  });

  it("a drizzle-kit rebuild of tracked tables records nothing and keeps AS OF working", async () => {
    migrationCase.current = upTo(cases.tree, 1);
    const stub = env.MIGRATING_HISTORY.getByName(`h-tree-${Date.now()}-${seq++}`);
    await runInDurableObject(stub, (actor: MigratingHistoryActor) => {
      actor.run("INSERT INTO folders (id, parent_id, name) VALUES (1, NULL, 'r'), (2, 1, 'c'), (3, 2, 'g')");
    });
    await tick();
    const t0 = Date.now();
    await tick();
    await runInDurableObject(stub, (actor: MigratingHistoryActor) =>
      actor.run("UPDATE folders SET name = 'C' WHERE id = 2"),
    );
    const lsn = await runInDurableObject(
      stub,
      (actor: MigratingHistoryActor) => actor.history.changes().lastLsn,
    );
    migrationCase.current = cases.tree;
    await evictDurableObject(stub);
    const after = await runInDurableObject(stub, (actor: MigratingHistoryActor) => ({
      lastLsn: actor.history.changes().lastLsn,
      rows: actor.query("SELECT id, parent_id, name FROM folders ORDER BY id"),
      asOf: actor.query("SELECT id, parent_id, name FROM folders FOR SYSTEM_TIME AS OF ? ORDER BY id", [
        t0,
      ] as never),
    }));
    expect(after.lastLsn).toBe(lsn);
    expect(after.rows).toEqual([
      { id: 1, parent_id: null, name: "r" },
      { id: 2, parent_id: 1, name: "C" },
      { id: 3, parent_id: 2, name: "g" },
    ]);
    expect(after.asOf).toEqual([
      { id: 1, parent_id: null, name: "r" },
      { id: 2, parent_id: 1, name: "c" },
      { id: 3, parent_id: 2, name: "g" },
    ]);
  });
});
