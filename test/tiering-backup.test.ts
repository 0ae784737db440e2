import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY, T0 } from "./fixtures/tiered";
import { codeOf, freshTiered, leftovers, q, r2Keys, readingsRef } from "./tiering-helpers";

type Stub = ReturnType<typeof freshTiered>["stub"];

/** Rows of every SQLite type and shape a restore must bring back exactly. */
async function seedEverything(stub: Stub): Promise<void> {
  await stub.seedReadings(3_000, T0, DAY);
  await runInDurableObject(stub, (a) => {
    a.run("INSERT INTO alerts (sensor, message) VALUES ('s-a', 'hot'), ('s-b', 'cold'), ('s-a', 'dry')");
    a.run("DELETE FROM alerts WHERE message = 'DRY'"); // AUTOINCREMENT keeps 3 as used
    const rows: unknown[][] = [
      [1, new Uint8Array([0, 255, 7]), 1.5, "text", "12"],
      ["a string", new Uint8Array([]), 2, "ünïcødé ✓ \u0000 nul", 3.25],
      [2.5, null, -0.125, "", "abc"],
      [9007199254740991, new Uint8Array(300).fill(9), 1e300, "'quoted' \"double\"", null],
      [null, null, null, null, -42],
    ];
    for (const r of rows) a.run("INSERT INTO kinds (anything, data, r, t, n) VALUES (?, ?, ?, ?, ?)", r);
    a.run("INSERT INTO kinds (anything, r, n) VALUES (-9e999, 9e999, -9e999)"); // infinities
    // Text that is not UTF-8: a lone surrogate bound from JavaScript, a blob cast to text.
    a.run("INSERT INTO kinds (anything, t) VALUES (?, CAST(x'ff61' AS TEXT))", ["x\ud800y"]);
    for (let i = 0; i < 20; i++) a.run("INSERT INTO events (name, at) VALUES (?, ?)", [`e${i}`, i]);
    a.run("DELETE FROM events WHERE at % 3 = 0"); // rowid gaps
  });
}

/** Everything a restore must reproduce, read in a stable order with value types. */
async function state(stub: Stub) {
  return runInDurableObject(stub, (a) => ({
    sensors: a.query("SELECT rowid, * FROM sensors ORDER BY rowid"),
    readings: a.query(
      "SELECT count(*) AS n, sum(value) AS s, sum(id) AS ids, count(note) AS notes FROM readings",
    ),
    alerts: a.query("SELECT * FROM alerts ORDER BY id"),
    kinds: a.query(
      "SELECT k, anything, typeof(anything) AS ta, hex(anything) AS ha, hex(data) AS data, typeof(data) AS td, r, typeof(r) AS tr, t, hex(t) AS ht, n, typeof(n) AS tn FROM kinds ORDER BY k",
    ),
    events: a.query("SELECT rowid, name, at FROM events ORDER BY rowid"),
    sequences: a.query(
      "SELECT name, seq FROM sqlite_sequence WHERE name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name",
    ),
    schema: a.query(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY type, name",
    ),
    version: a.schemaVersion().version,
  }));
}

describe("backup and restore", () => {
  it("backup, destructive changes, restore: the exact rows, types, rowids, counters and schema", async () => {
    const { name, stub } = freshTiered("bkexact");
    await seedEverything(stub);
    const before = await state(stub);
    const backup = await runInDurableObject(stub, (a) => a.tiering.backup());
    expect(backup).toMatchObject({ done: true, tables: 7 });
    expect(backup.key).toMatch(
      new RegExp(`^archive/${name}/_backups/\\d{8}T\\d{9}Z-[0-9a-f]{8}/backup\\.json$`),
    );

    await runInDurableObject(stub, (a) => {
      a.run("DELETE FROM readings WHERE id % 2 = 0");
      a.run("UPDATE kinds SET anything = 'changed', data = NULL");
      a.run("DELETE FROM sensors WHERE id = 's-a'"); // cascades to alerts
      a.run("INSERT INTO alerts (sensor, message) VALUES ('s-b', 'new')");
      a.run("DROP VIEW building_counts");
      a.run("DROP TABLE events");
      a.run("CREATE TABLE extra (x)");
      a.run("INSERT INTO extra VALUES (1)");
    });
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 1_500 }]);

    const restored = await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(backup.key));
    expect(restored).toMatchObject({ key: backup.key, tables: 7, schemaVersion: "0000_init", walLsn: null });
    expect(await state(stub)).toEqual(before);
    expect(await leftovers(stub)).toEqual([]);
    // The restored trigger and AUTOINCREMENT counter work as before the backup.
    await runInDurableObject(stub, (a) =>
      a.run("INSERT INTO alerts (sensor, message) VALUES ('s-c', 'again')"),
    );
    expect(await q(stub, "SELECT id, message FROM alerts ORDER BY id DESC LIMIT 1")).toEqual([
      { id: 4, message: "AGAIN" },
    ]);
    // Bookkeeping survives the restore: the backup is still listed.
    expect(await runInDurableObject(stub, (a) => a.tiering.backups().map((b) => b.key))).toEqual([
      backup.key,
    ]);
  });

  it("brings back a view's INSTEAD OF trigger: the view accepts inserts again", async () => {
    const { stub } = freshTiered("bkviewtrigger");
    await stub.seedReadings(10, T0, DAY);
    await runInDurableObject(stub, (a) => {
      a.run("CREATE VIEW new_events AS SELECT name, at FROM events WHERE 0");
      a.run(
        "CREATE TRIGGER new_events_insert INSTEAD OF INSERT ON new_events BEGIN INSERT INTO events (name, at) VALUES (NEW.name, NEW.at); END",
      );
    });
    const backup = await runInDurableObject(stub, (a) => a.tiering.backup());
    await runInDurableObject(stub, (a) => a.run("DROP VIEW new_events"));
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(backup.key));
    await runInDurableObject(stub, (a) => a.run("INSERT INTO new_events (name, at) VALUES ('via-view', 7)"));
    expect(await q(stub, "SELECT name, at FROM events WHERE name = 'via-view'")).toEqual([
      { name: "via-view", at: 7 },
    ]);
    expect(
      await q(stub, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'new_events'"),
    ).toEqual([{ name: "new_events_insert" }]);
  });

  it("keeps integers beyond 2^53 exact: values of every affinity, rowids and AUTOINCREMENT counters", async () => {
    const { stub } = freshTiered("bkbig");
    // SQL literals: no JavaScript number holds these.
    await runInDurableObject(stub, (a) => {
      a.run(
        `INSERT INTO kinds (k, anything, n, t) VALUES
           (9007199254740993, 9007199254740993, -9223372036854775808, 'a'),
           (-9223372036854775808, 'mixed', 9223372036854775807, 'b'),
           (9223372036854775806, -9223372036854775808, 9007199254740993, 'c')`,
      );
      a.run(
        `INSERT INTO events (rowid, name, at) VALUES
           (9223372036854775807, 'last', 9223372036854775807), (9007199254740993, 'mid', -9223372036854775808)`,
      );
      a.run(
        `INSERT INTO readings (id, sensor, ts, value) VALUES
           (9007199254740993, 's-a', 9223372036854775807, 1), (-9007199254740993, 's-b', -9223372036854775808, 2)`,
      );
    });
    const exact = () =>
      runInDurableObject(stub, (a) => ({
        kinds: a.query(
          "SELECT CAST(k AS TEXT) AS k, CAST(anything AS TEXT) AS anything, typeof(anything) AS ta, CAST(n AS TEXT) AS n, typeof(n) AS tn FROM kinds ORDER BY k",
        ),
        events: a.query(
          "SELECT CAST(rowid AS TEXT) AS rowid, name, CAST(at AS TEXT) AS at, typeof(at) AS tat FROM events ORDER BY rowid",
        ),
        readings: a.query(
          "SELECT CAST(id AS TEXT) AS id, CAST(ts AS TEXT) AS ts, typeof(ts) AS tts FROM readings ORDER BY id",
        ),
        sequence: a.query(
          "SELECT CAST(seq AS TEXT) AS seq, typeof(seq) AS ts FROM sqlite_sequence WHERE name = 'kinds'",
        ),
      }));
    const expected = {
      kinds: [
        { k: "-9223372036854775808", anything: "mixed", ta: "text", n: "9223372036854775807", tn: "integer" },
        {
          k: "9007199254740993",
          anything: "9007199254740993",
          ta: "integer",
          n: "-9223372036854775808",
          tn: "integer",
        },
        {
          k: "9223372036854775806",
          anything: "-9223372036854775808",
          ta: "integer",
          n: "9007199254740993",
          tn: "integer",
        },
      ],
      events: [
        { rowid: "9007199254740993", name: "mid", at: "-9223372036854775808", tat: "integer" },
        { rowid: "9223372036854775807", name: "last", at: "9223372036854775807", tat: "integer" },
      ],
      readings: [
        { id: "-9007199254740993", ts: "-9223372036854775808", tts: "integer" },
        { id: "9007199254740993", ts: "9223372036854775807", tts: "integer" },
      ],
      sequence: [{ seq: "9223372036854775806", ts: "integer" }],
    };
    expect(await exact()).toEqual(expected);
    const { key } = await runInDurableObject(stub, (a) => a.tiering.backup());
    await runInDurableObject(stub, (a) => {
      a.run("DELETE FROM kinds");
      a.run("DELETE FROM events");
      a.run("UPDATE readings SET ts = 0");
      a.run("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'kinds'");
    });
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(key));
    expect(await exact()).toEqual(expected);
    // The counter is exact too: the next AUTOINCREMENT key is the last one there is.
    await runInDurableObject(stub, (a) => a.run("INSERT INTO kinds (t) VALUES ('next')"));
    expect(await q(stub, "SELECT CAST(max(k) AS TEXT) AS k FROM kinds")).toEqual([
      { k: "9223372036854775807" },
    ]);
  });

  it("restores another actor's backup into a fresh actor (a clone)", async () => {
    const source = freshTiered("bksrc");
    await seedEverything(source.stub);
    const { key } = await runInDurableObject(source.stub, (a) => a.tiering.backup());
    const clone = freshTiered("bkclone");
    await runInDurableObject(clone.stub, (a) => a.tiering.restoreFromBackup(key));
    expect(await state(clone.stub)).toEqual(await state(source.stub));
  });

  it("after restoring a backup older than an archive, a cold query over the actor's own prefix reads none of the files the restore took back (their rows are hot again)", async () => {
    const { name, stub } = freshTiered("bkdetach");
    await stub.seedReadings(100, T0, DAY);
    const { key } = await runInDurableObject(stub, (a) => a.tiering.backup());
    await stub.archiveReadings(T0 + 2 * DAY);
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(key));
    const counts = await runInDurableObject(stub, async (a) => ({
      hot: a.query("SELECT count(*) AS n FROM readings")[0].n,
      cold: (await a.tiering.query(`SELECT count(*) AS n FROM ${readingsRef(name)}`))[0].n,
      union: (await a.tiering.unionQuery("readings", "SELECT count(*) AS n FROM readings"))[0].n,
    }));
    expect(await r2Keys(`archive/${name}/readings/`)).toHaveLength(1); // still in R2, for the newer state
    expect(counts).toEqual({ hot: 100, cold: 0, union: 100 });
  });

  it("runs in bounded steps across evictions, and is the snapshot of the moment it started", async () => {
    const { stub } = freshTiered("bksteps", { stepBudgetMs: 1, chunkRows: 2_000, resumeDelayMs: 600_000 });
    await stub.seedReadings(7_000, T0, DAY);
    const atStart = await q(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings");
    let result = await runInDurableObject(stub, (a) => a.tiering.backup());
    let steps = 1;
    while (!result.done) {
      // Writes between steps are not part of this backup.
      await runInDurableObject(stub, (a) =>
        a.run("INSERT INTO readings (sensor, ts, value) VALUES ('s-z', ?, 1000)", [T0 + steps]),
      );
      await evictDurableObject(stub);
      result = await runInDurableObject(stub, (a) => a.tiering.backup());
      steps++;
      expect(steps).toBeLessThan(30);
    }
    expect(steps).toBeGreaterThanOrEqual(4); // 7,000 rows in parts of 2,000
    const manifest = JSON.parse(await (await env.ARCHIVE.get(result.key))!.text());
    const readings = manifest.tables.find((t: { name: string }) => t.name === "readings");
    expect(readings.parts.map((p: { rows: number }) => p.rows)).toEqual([2_000, 2_000, 2_000, 1_000]);
    expect(
      await q(
        stub,
        "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '\\_dosql\\_snap\\_%' ESCAPE '\\'",
      ),
    ).toEqual([{ n: 0 }]);
    await runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(result.key));
    expect(await q(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings")).toEqual(atStart);
  });

  it("keeps the newest backups when a retention count is given", async () => {
    const { name, stub } = freshTiered("bkkeep");
    await stub.seedReadings(100, T0, DAY);
    const keys: string[] = [];
    for (let i = 0; i < 3; i++)
      keys.push((await runInDurableObject(stub, (a) => a.tiering.backup({ keep: 2 }))).key);
    const listed = await runInDurableObject(stub, (a) => a.tiering.backups());
    expect(listed.map((b) => b.key)).toEqual([keys[2], keys[1]]);
    const remaining = await r2Keys(`archive/${name}/_backups/`);
    expect(remaining.some((k) => k.startsWith(keys[0].replace("backup.json", "")))).toBe(false);
    expect(remaining).toContain(keys[1]);
    expect(remaining).toContain(keys[2]);
  });

  it("refuses bad keys, missing and corrupt backups with typed errors, changing nothing", async () => {
    const { name, stub } = freshTiered("bkbad");
    await seedEverything(stub);
    const restore = (key: unknown, bucket?: string) =>
      codeOf(runInDurableObject(stub, (a) => a.tiering.restoreFromBackup(key as string, { bucket })));
    expect(await restore(42)).toBe("VALIDATION_FAILED");
    expect(await restore("archive/x/../backup.json")).toBe("VALIDATION_FAILED");
    expect(await restore("archive/x/other.json")).toBe("VALIDATION_FAILED");
    expect(await restore(`archive/${name}/_backups/none/backup.json`)).toBe("BACKUP_NOT_FOUND");
    expect(await restore(`archive/${name}/_backups/none/backup.json`, "NOPE")).toBe("UNKNOWN_BUCKET");
    await env.ARCHIVE.put(`archive/${name}/_backups/junk/backup.json`, "{not json");
    expect(await restore(`archive/${name}/_backups/junk/backup.json`)).toBe("BACKUP_CORRUPT");
    await env.ARCHIVE.put(`archive/${name}/_backups/shape/backup.json`, JSON.stringify({ format: 2 }));
    expect(await restore(`archive/${name}/_backups/shape/backup.json`)).toBe("BACKUP_CORRUPT");

    const before = await state(stub);
    const { key } = await runInDurableObject(stub, (a) => a.tiering.backup());
    await runInDurableObject(stub, (a) => a.run("DELETE FROM readings WHERE id < 100"));
    const changed = await state(stub);
    expect(changed).not.toEqual(before);
    // A backup.json whose schema SQL carries a second statement is refused.
    const manifest = JSON.parse(await (await env.ARCHIVE.get(key))!.text());
    manifest.objects[0].sql += "; DROP TABLE readings";
    await env.ARCHIVE.put(`archive/${name}/_backups/tampered/backup.json`, JSON.stringify(manifest));
    expect(await restore(`archive/${name}/_backups/tampered/backup.json`)).toBe("BACKUP_CORRUPT");
    expect(await state(stub)).toEqual(changed);
    // A part missing from R2: the restore fails before touching anything.
    const parts = (await r2Keys(key.replace("backup.json", ""))).filter((k) => k.endsWith(".parquet"));
    await env.ARCHIVE.delete(parts.at(-1)!);
    expect(await restore(key)).toBe("BACKUP_CORRUPT");
    expect(await state(stub)).toEqual(changed);
    expect(await leftovers(stub)).toEqual([]);
  });
});
