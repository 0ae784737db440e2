import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InventorySKU } from "../actors/inventory-sku/inventory-sku";
import type { HistoryFkActor } from "./fixtures/history-fk";
import { tick } from "./history-helpers";
import { freshTiered } from "./tiering-helpers";

let seq = 0;
const name = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

/** A point in time with the clock moved on both sides (DO time stands still within a call). */
async function moment(stub: DurableObjectStub<HistoryFkActor> | DurableObjectStub<InventorySKU>) {
  await tick();
  const at = await runInDurableObject(stub as DurableObjectStub<HistoryFkActor>, () => Date.now());
  await tick();
  return at;
}

const STATE_SQL = {
  parents: "SELECT * FROM parents ORDER BY id",
  kids: "SELECT * FROM kids ORDER BY id",
  pets: "SELECT * FROM pets ORDER BY id",
  handles: "SELECT * FROM handles ORDER BY id",
  anyv: "SELECT id, hex(t) AS t, typeof(t) AS tt, CAST(u AS TEXT) AS u, typeof(u) AS tu, r, typeof(r) AS tr FROM anyv ORDER BY id",
  sizes: "SELECT * FROM sizes ORDER BY id",
};
type Tables = Record<keyof typeof STATE_SQL, unknown[]>;

function readState(a: HistoryFkActor, asOf?: number): Tables {
  const out: Record<string, unknown[]> = {};
  for (const [t, sql] of Object.entries(STATE_SQL))
    out[t] =
      asOf === undefined
        ? a.query(sql)
        : a.query(sql.replace(` FROM ${t}`, ` FROM ${t} FOR SYSTEM_TIME AS OF ?`), [asOf]);
  return out as Tables;
}

describe("backup and restore with history on", () => {
  it("backup, destructive changes, restore: exact rows; AS OF and the change feed carry on across it", async () => {
    const stub = env.HISTORY_FK.getByName(name("bk-history"));
    await runInDurableObject(stub, (a) => {
      a.transaction(() => {
        a.run("INSERT INTO parents (id, name) VALUES (1, 'one'), (2, 'two')");
        a.run("INSERT INTO kids (id, parent_id, name) VALUES (10, 1, 'k1'), (11, 2, 'k2')");
        a.run("INSERT INTO pets (id, parent_id, name) VALUES (20, 1, 'rex')");
      });
      a.run("INSERT INTO handles (id, handle) VALUES (1, 'ann'), (2, 'bob')");
      a.run("INSERT INTO anyv (id, t, u, r) VALUES (1, ?, ?, 2.0)", [
        new Uint8Array([0, 255]),
        9007199254740991n,
      ]);
      a.run("INSERT INTO sizes (id, name) VALUES (1, 'tiny'), (2, 'xs')");
    });
    const durable = await runInDurableObject(stub, (a) => a.history.subscribe("consumer", { fromLsn: 1 }));
    const atBackup = await moment(stub);
    const backup = await runInDurableObject(stub, (a) => a.tiering.backup());
    expect(backup.done).toBe(true);
    const saved = await runInDurableObject(stub, (a) => readState(a));
    expect(saved.sizes).toEqual([
      { id: 1, name: "tiny", size: "long" },
      { id: 2, name: "xs", size: "short" },
    ]);

    await runInDurableObject(stub, (a) => {
      a.run("DELETE FROM parents WHERE id = 1"); // cascades to kids 10, sets pets 20's parent NULL
      a.run("UPDATE handles SET handle = 'zed' WHERE id = 1");
      a.run("INSERT INTO parents (id, name) VALUES (9, 'nine')");
      a.run("DELETE FROM anyv");
      a.run("DROP TRIGGER sizes_label");
    });
    const atDamage = await moment(stub);
    const damaged = await runInDurableObject(stub, (a) => readState(a));
    const lastBefore = await runInDurableObject(stub, (a) => a.history.changes().lastLsn);

    const restored = await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(backup.key));
    expect(restored.key).toBe(backup.key);
    const after = await runInDurableObject(stub, (a) => ({
      now: readState(a),
      beforeRestore: readState(a, atDamage),
      atBackup: readState(a, atBackup),
      feed: a.history.changes({ fromLsn: 1, limit: 10_000 }).changes,
      status: a.history.status(),
      subscribers: a.history.subscribers(),
    }));
    // The rows, values and types of the backup, exactly.
    expect(after.now).toEqual(saved);
    // Time travel still answers what the data was on either side of the restore.
    expect(after.beforeRestore).toEqual(damaged);
    expect(after.atBackup).toEqual(saved);
    // The feed never goes backwards: the restore is one transaction after everything before it.
    const lsns = after.feed.map((c) => c.lsn);
    expect(lsns).toEqual([...lsns].sort((x, y) => x - y));
    expect(new Set(lsns).size).toBe(lsns.length);
    const restoreChanges = after.feed.filter((c) => c.lsn > lastBefore);
    expect(restoreChanges.length).toBeGreaterThan(0);
    expect(new Set(restoreChanges.map((c) => c.tx))).toEqual(new Set([lastBefore + 1]));
    expect(new Set(restoreChanges.map((c) => c.actor))).toEqual(new Set(["restore"]));
    const summary = restoreChanges.map((c) => `${c.op} ${c.table} ${JSON.stringify(c.key)}`).sort();
    expect(summary).toEqual(
      [
        'delete parents {"id":9}',
        'insert parents {"id":1}',
        'insert kids {"id":10}',
        'update pets {"id":20}',
        'update handles {"id":1}',
        'insert anyv {"id":1}',
      ].sort(),
    );
    expect(restoreChanges.find((c) => c.table === "pets")?.changed).toEqual(["parent_id"]);
    // The durable subscriber is kept, and history is reinstalled: new writes follow the restore.
    expect(after.subscribers.map((s) => [s.id, s.acked])).toEqual([["consumer", durable.acked]]);
    expect(after.status.tables).toContain("parents");
    const next = await runInDurableObject(stub, (a) => {
      a.run("INSERT INTO sizes (id, name) VALUES (3, 'large')"); // the CASE trigger is back
      return {
        feed: a.history.changes({ fromLsn: lastBefore + 1 }),
        sizes: a.query("SELECT size FROM sizes WHERE id = 3"),
      };
    });
    expect(next.sizes).toEqual([{ size: "long" }]);
    expect(next.feed.changes.at(-1)!.lsn).toBeGreaterThan(Math.max(...lsns));
    // The restore is a transaction like any other: it can be undone.
    const undone = await runInDurableObject(stub, (a) => {
      a.run("DELETE FROM sizes WHERE id = 3");
      a.undo(lastBefore + 1);
      return readState(a);
    });
    expect({ ...undone, sizes: undefined }).toEqual({ ...damaged, sizes: undefined });
  });

  it("integers beyond 2^53 (values and keys) are backed up, restored and read AS OF exactly", async () => {
    const stub = env.HISTORY_FK.getByName(name("bk-big"));
    const exact =
      "SELECT CAST(id AS TEXT) AS id, CAST(n AS TEXT) AS n, typeof(n) AS tn, CAST(u AS TEXT) AS u, typeof(u) AS tu FROM anyv";
    // SQL literals: no JavaScript number holds these.
    await runInDurableObject(stub, (a) =>
      a.run(
        "INSERT INTO anyv (id, n, u) VALUES (9007199254740993, 9223372036854775807, -9223372036854775808), (-9223372036854775808, -9007199254740993, 9007199254740993)",
      ),
    );
    const saved = [
      {
        id: "-9223372036854775808",
        n: "-9007199254740993",
        tn: "integer",
        u: "9007199254740993",
        tu: "integer",
      },
      {
        id: "9007199254740993",
        n: "9223372036854775807",
        tn: "integer",
        u: "-9223372036854775808",
        tu: "integer",
      },
    ];
    expect(await runInDurableObject(stub, (a) => a.query(`${exact} ORDER BY id`))).toEqual(saved);
    const atBackup = await moment(stub);
    const { key } = await runInDurableObject(stub, (a) => a.tiering.backup());
    await runInDurableObject(stub, (a) => a.run("UPDATE anyv SET n = 0, u = 0"));
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(key));
    const after = await runInDurableObject(stub, (a) => ({
      now: a.query(`${exact} ORDER BY id`),
      asOf: a.query(`${exact} FOR SYSTEM_TIME AS OF ? ORDER BY id`, [atBackup]),
    }));
    expect(after).toEqual({ now: saved, asOf: saved });
  });

  it("InventorySKU: backup, destructive changes, restore; stateAt and the feed across the restore", async () => {
    // InventorySKU as shipped has no tiering: backups are opt-in (test/fixtures/backed-up-inventory.ts).
    const stub = env.BACKED_UP_INVENTORY.getByName(
      name("sku-bk"),
    ) as unknown as DurableObjectStub<InventorySKU>;
    await stub.restock({ quantity: 100, productName: "Widget" });
    await stub.reserve({ orderId: "o1", quantity: 5 });
    await stub.reserve({ orderId: "o2", quantity: 3 });
    const saved = await stub.status();
    const backup = await runInDurableObject(stub, (a) => a.tiering.backup());
    expect(backup.done).toBe(true);
    await stub.release({ orderId: "o1" });
    await stub.confirm({ orderId: "o2" });
    await stub.reserve({ orderId: "o3", quantity: 10 });
    const damagedAt = await moment(stub);
    const damaged = await stub.status();
    expect(damaged).not.toEqual(saved);
    const lastBefore = await runInDurableObject(stub, (a) => a.history.changes().lastLsn);

    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(backup.key));
    expect(await stub.status()).toEqual(saved);
    const { updatedAt: _u, ...damagedFigures } = damaged as unknown as Record<string, unknown>;
    const before = (await stub.stateAt(damagedAt)) as unknown as Record<string, unknown>;
    expect(before).toMatchObject(damagedFigures);
    const feed = await runInDurableObject(
      stub,
      (a) => a.history.changes({ fromLsn: lastBefore + 1 }).changes,
    );
    expect(feed.length).toBeGreaterThan(0);
    expect(feed.every((c) => c.lsn > lastBefore && c.actor === "restore")).toBe(true);
    expect(feed.map((c) => `${c.op} ${c.table} ${JSON.stringify(c.key)}`)).toContain(
      'delete reservations {"id":"o3"}',
    );
    // The SKU keeps working after the restore, and its history with it.
    await stub.reserve({ orderId: "o4", quantity: 1 });
    const latest = await runInDurableObject(
      stub,
      (a) => a.history.changes({ fromLsn: lastBefore + 1 }).changes,
    );
    expect(latest.at(-1)!.lsn).toBeGreaterThan(feed.at(-1)!.lsn);
  });

  it("without history, a trigger whose body holds CASE … END is backed up and restored exactly", async () => {
    const { stub } = freshTiered("bkcase");
    const trigger =
      "CREATE TRIGGER alerts_kind AFTER INSERT ON alerts BEGIN UPDATE alerts SET message = CASE WHEN new.sensor = 's-a' THEN 'A:' || new.message ELSE new.message END WHERE id = new.id; END";
    await runInDurableObject(stub, (a) => {
      a.run("INSERT INTO sensors (id, building) VALUES ('s-a', 'north')");
      a.run(trigger);
    });
    const { key } = await runInDurableObject(stub, (a) => a.tiering.backup());
    await runInDurableObject(stub, (a) => a.run("DROP TRIGGER alerts_kind"));
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(key));
    const back = await runInDurableObject(stub, (a) => {
      a.run("INSERT INTO alerts (sensor, message) VALUES ('s-a', 'x')");
      return {
        sql: a.query("SELECT sql FROM sqlite_master WHERE name = 'alerts_kind'"),
        message: a.query("SELECT message FROM alerts"),
      };
    });
    expect(back.sql).toEqual([{ sql: trigger }]);
    expect(back.message).toEqual([{ message: "A:X" }]); // alerts_upper runs first, then alerts_kind
  });
});
