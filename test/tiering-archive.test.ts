import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY, T0 } from "./fixtures/tiered";
import { codeOf, freshTiered, leftovers, q, r2Keys, readingsRef } from "./tiering-helpers";

type Totals = { n: number; s: number };
const CUTOFF = T0 + 3 * DAY;

describe("archive", () => {
  it("moves 50,000 rows over 3 days into files per day, keeps recent rows hot, loses and doubles nothing", async () => {
    const { name, stub } = freshTiered("arch50k");
    await stub.seedReadings(50_000, T0, 3 * DAY);
    await stub.seedReadings(500, CUTOFF, DAY / 2, 100_000);
    const old = "FROM readings WHERE ts < ?";
    const [before] = await q<Totals>(stub, `SELECT count(*) AS n, sum(value) AS s ${old}`, [CUTOFF]);
    const perSensor = await q(
      stub,
      `SELECT sensor, count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi, count(note) AS notes ${old} GROUP BY sensor ORDER BY sensor`,
      [CUTOFF],
    );
    const [all] = await q<Totals>(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings");

    const result = await stub.archiveReadings(CUTOFF);
    expect(result).toMatchObject({ done: true, rows: 50_000 });

    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest("readings"));
    expect([...new Set(manifest.map((m) => m.partition))]).toEqual([
      "2026-11-01",
      "2026-11-02",
      "2026-11-03",
    ]);
    expect(manifest.reduce((n, m) => n + m.rows, 0)).toBe(50_000);
    for (const m of manifest) {
      expect(m.key).toMatch(
        new RegExp(`^archive/${name}/readings/${m.partition}/\\d{19}-[0-9a-f]{12}\\.parquet$`),
      );
      expect(m.minTime).toBeGreaterThanOrEqual(Date.parse(m.partition));
      expect(m.maxTime).toBeLessThan(Date.parse(m.partition) + DAY);
    }
    // R2 holds exactly the manifest's files: none missing, none extra.
    expect(await r2Keys(`archive/${name}/`)).toEqual(manifest.map((m) => m.key).sort());

    const hot = await q<{ n: number; lo: number }>(stub, "SELECT count(*) AS n, min(ts) AS lo FROM readings");
    expect(hot).toEqual([{ n: 500, lo: CUTOFF }]);

    const cold = await runInDurableObject(stub, (a) =>
      a.query<Totals>(`SELECT count(*) AS n, sum(value) AS s FROM ${readingsRef(name)}`),
    );
    expect(cold).toEqual([before]);
    const coldPerSensor = await runInDurableObject(stub, (a) =>
      a.query(
        `SELECT sensor, count(*) AS n, sum(value) AS s, min(value) AS lo, max(value) AS hi, count(note) AS notes FROM ${readingsRef(name)} GROUP BY sensor ORDER BY sensor`,
      ),
    );
    expect(coldPerSensor).toEqual(perSensor);
    const union = await runInDurableObject(stub, (a) =>
      a.tiering.unionQuery<Totals>("readings", "SELECT count(*) AS n, sum(value) AS s FROM readings"),
    );
    expect(union).toEqual([all]);
    expect(await leftovers(stub)).toEqual([]);
  });

  it("a re-run after an R2 put that throws mid-run loses and duplicates nothing", async () => {
    const { name, stub } = freshTiered("archfail");
    await stub.seedReadings(12_000, T0, 3 * DAY);
    const [before] = await q<Totals>(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings");
    await runInDurableObject(stub, (a) => {
      let puts = 0;
      a.tiering.store().hooks = {
        beforePut: () => {
          if (++puts === 2) throw new Error("R2 is down");
        },
      };
    });
    expect(await codeOf(runInDurableObject(stub, (a) => a.archiveReadings(CUTOFF)))).toBe(
      "ARCHIVE_UNAVAILABLE",
    );
    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(manifest).toHaveLength(1);
    const [hot] = await q<Totals>(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings");
    expect(hot.n).toBe(12_000 - manifest[0].rows);
    expect(await r2Keys(`archive/${name}/`)).toEqual([manifest[0].key]);

    await runInDurableObject(stub, (a) => {
      a.tiering.store().hooks = undefined;
    });
    expect(await stub.archiveReadings(CUTOFF)).toMatchObject({ done: true, rows: 12_000 - manifest[0].rows });
    const after = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(after).toHaveLength(3);
    expect(await r2Keys(`archive/${name}/`)).toEqual(after.map((m) => m.key).sort());
    const cold = await runInDurableObject(stub, (a) =>
      a.query<Totals>(`SELECT count(*) AS n, sum(value) AS s FROM ${readingsRef(name)}`),
    );
    expect(cold).toEqual([before]);
    const ids = await runInDurableObject(stub, (a) =>
      a.query<{ n: number; d: number }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${readingsRef(name)}`,
      ),
    );
    expect(ids).toEqual([{ n: 12_000, d: 12_000 }]);
  });

  it("a put that landed but was never confirmed is replaced, not duplicated", async () => {
    const { name, stub } = freshTiered("archlost");
    await stub.seedReadings(9_000, T0, 3 * DAY);
    await runInDurableObject(stub, (a) => {
      let puts = 0;
      a.tiering.store().hooks = {
        afterPut: () => {
          if (++puts === 1) throw new Error("connection reset after upload");
        },
      };
    });
    expect(await codeOf(runInDurableObject(stub, (a) => a.archiveReadings(CUTOFF)))).toBe(
      "ARCHIVE_UNAVAILABLE",
    );
    // The object is in R2, but nothing is recorded and every row is still hot.
    expect(await r2Keys(`archive/${name}/`)).toHaveLength(1);
    expect(await runInDurableObject(stub, (a) => a.tiering.manifest())).toEqual([]);
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 9_000 }]);
    // A cold query (no manifest yet, so R2 is listed) reads none of it: its rows are hot.
    const listed = await runInDurableObject(stub, (a) =>
      a.query(`SELECT count(*) AS n FROM ${readingsRef(name)}`),
    );
    expect(listed).toEqual([{ n: 0 }]);

    expect(await stub.archiveReadings(CUTOFF)).toMatchObject({ done: true, rows: 9_000 });
    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(await r2Keys(`archive/${name}/`)).toEqual(manifest.map((m) => m.key).sort());
    const cold = await runInDurableObject(stub, (a) =>
      a.query(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${readingsRef(name)}`),
    );
    expect(cold).toEqual([{ n: 9_000, d: 9_000 }]);
  });

  it("a put that never answers times out and keeps every row", async () => {
    const { name, stub } = freshTiered("archslow", { putTimeoutMs: 150 });
    await stub.seedReadings(3_000, T0, DAY);
    await runInDurableObject(stub, (a) => {
      a.tiering.store().hooks = { beforePut: () => new Promise(() => {}) };
    });
    const started = Date.now();
    expect(await codeOf(runInDurableObject(stub, (a) => a.archiveReadings(CUTOFF)))).toBe(
      "ARCHIVE_UNAVAILABLE",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 3_000 }]);
    expect(await runInDurableObject(stub, (a) => a.tiering.manifest())).toEqual([]);
    expect(await r2Keys(`archive/${name}/`)).toEqual([]);
  });

  it("rows changed while their file uploads are archived as changed (the stale file is discarded)", async () => {
    const { name, stub } = freshTiered("archrace");
    await stub.seedReadings(4_000, T0, DAY);
    // During the first put, a request updates a row of the chunk being uploaded.
    await runInDurableObject(stub, (a) => {
      let puts = 0;
      a.tiering.store().hooks = {
        beforePut: () => {
          if (++puts === 1) a.run("UPDATE readings SET value = 12345.5 WHERE id = 7");
        },
      };
    });
    expect(await stub.archiveReadings(CUTOFF)).toMatchObject({ done: true, rows: 4_000, files: 1 });
    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(await r2Keys(`archive/${name}/`)).toEqual(manifest.map((m) => m.key));
    const cold = await runInDurableObject(stub, (a) =>
      a.query(`SELECT value FROM ${readingsRef(name)} WHERE id = 7`),
    );
    expect(cold).toEqual([{ value: 12345.5 }]);
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 0 }]);
  });

  it("runs in bounded steps that resume exactly across evictions", async () => {
    // The automatic continuation is booked far ahead: this test drives the steps itself.
    const { name, stub } = freshTiered("archsteps", {
      stepBudgetMs: 1,
      chunkRows: 1_500,
      resumeDelayMs: 600_000,
    });
    await stub.seedReadings(9_000, T0, 3 * DAY);
    const [before] = await q<Totals>(stub, "SELECT count(*) AS n, sum(value) AS s FROM readings");
    const first = await stub.archiveReadings(CUTOFF);
    expect(first).toMatchObject({ done: false, files: 1, rows: 1_500 });
    const booked = await runInDurableObject(stub, (a) => a.schedule.get("tiering:resume"));
    expect(booked).toMatchObject({ method: "tieringStep", payload: { resume: true }, status: "scheduled" });
    let steps = 1;
    for (;;) {
      await evictDurableObject(stub);
      const jobs = await runInDurableObject(stub, (a) => a.tiering.jobs());
      expect(jobs).toEqual([{ id: "archive:readings", kind: "archive" }]);
      const { done } = await runInDurableObject(stub, (a) => a.tiering.resume());
      steps++;
      if (done) break;
      expect(steps).toBeLessThan(20);
    }
    expect(steps).toBe(7); // six files, then one step that finds nothing left
    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(manifest.map((m) => m.rows)).toEqual([1_500, 1_500, 1_500, 1_500, 1_500, 1_500]);
    expect(await r2Keys(`archive/${name}/`)).toEqual(manifest.map((m) => m.key).sort());
    const cold = await runInDurableObject(stub, (a) =>
      a.query<Totals & { d: number }>(
        `SELECT count(*) AS n, sum(value) AS s, count(DISTINCT id) AS d FROM ${readingsRef(name)}`,
      ),
    );
    expect(cold).toEqual([{ ...before, d: 9_000 }]);
  });

  it("concurrent archive calls and writes: every row ends up exactly once, hot or archived", async () => {
    const { name, stub } = freshTiered("archconc", { chunkRows: 1_000 });
    await stub.seedReadings(6_000, T0, 3 * DAY);
    // Two archive runs and a stream of writes (some of them into the range being archived) at once.
    const writes = Array.from({ length: 20 }, (_, i) =>
      runInDurableObject(stub, (a) =>
        a.run("INSERT INTO readings (id, sensor, ts, value) VALUES (?, 's-w', ?, 1)", [
          90_000 + i,
          T0 + i * 3_600_000,
        ]),
      ),
    );
    const [a, b] = await Promise.all([stub.archiveReadings(CUTOFF), stub.archiveReadings(CUTOFF), ...writes]);
    expect(a.done && b.done).toBe(true);
    const manifest = await runInDurableObject(stub, (x) => x.tiering.manifest());
    expect(await r2Keys(`archive/${name}/`)).toEqual(manifest.map((m) => m.key).sort());
    const cold = await runInDurableObject(stub, (x) =>
      x.query<{ n: number; d: number }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${readingsRef(name)}`,
      ),
    );
    const [hot] = await q<{ n: number }>(stub, "SELECT count(*) AS n FROM readings");
    expect(cold[0].n).toBe(cold[0].d);
    expect(cold[0].n + hot.n).toBe(6_020);
    expect(manifest.reduce((n, m) => n + m.rows, 0)).toBe(cold[0].n);
  });

  it("rows keyed by integers beyond 2^53 are archived (not retried forever) and read back cold exactly", async () => {
    const { name, stub } = freshTiered("archbig");
    // SQL literals: no JavaScript number holds these. In time order, the first and last keys round
    // away from themselves as JavaScript numbers (…995 to …996, …993 to …992).
    await runInDurableObject(stub, (a) =>
      a.run(
        `INSERT INTO readings (id, sensor, ts, value) VALUES
           (9007199254740995, 's-a', ${T0}, 1), (-9223372036854775808, 's-b', ${T0 + 1}, 2),
           (9223372036854775807, 's-c', ${T0 + 2}, 3), (9007199254740993, 's-d', ${T0 + 3}, 4)`,
      ),
    );
    const result = await stub.archiveReadings(CUTOFF);
    expect(result).toMatchObject({ done: true, rows: 4, files: 1 });
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 0 }]);
    const manifest = await runInDurableObject(stub, (a) => a.tiering.manifest("readings"));
    expect(manifest[0].key).toMatch(/\/0009007199254740995-[0-9a-f]{12}\.parquet$/);
    const cold = await runInDurableObject(stub, (a) =>
      a.query(`SELECT CAST(id AS TEXT) AS id, typeof(id) AS t, sensor FROM ${readingsRef(name)} ORDER BY ts`),
    );
    expect(cold).toEqual([
      { id: "9007199254740995", t: "integer", sensor: "s-a" },
      { id: "-9223372036854775808", t: "integer", sensor: "s-b" },
      { id: "9223372036854775807", t: "integer", sensor: "s-c" },
      { id: "9007199254740993", t: "integer", sensor: "s-d" },
    ]);
    // Filters on the key prune by the file's INT64 statistics and still find the exact row.
    const one = await runInDurableObject(stub, (a) =>
      a.query(`SELECT sensor FROM ${readingsRef(name)} WHERE id = 9223372036854775807`),
    );
    expect(one).toEqual([{ sensor: "s-c" }]);
    const bound = await runInDurableObject(stub, (a) =>
      a.query(`SELECT sensor FROM ${readingsRef(name)} WHERE id = ?`, [9007199254740993n]),
    );
    expect(bound).toEqual([{ sensor: "s-d" }]);
  });

  it("rows archived again with the same content (re-inserted after their archive) get a file of their own", async () => {
    const { stub } = freshTiered("archagain");
    const spec = { table: "events", timeColumn: "at", olderThan: CUTOFF, partition: "day" } as const;
    // A table without a rowid column: once archived it is empty, so the same two events logged
    // again (a replayed import) take the same rowids and make a byte-identical file.
    const log = (a: { run(sql: string, params?: unknown[]): unknown }) =>
      a.run("INSERT INTO events (name, at) VALUES ('boot', ?), ('stop', ?)", [T0, T0 + 1]);
    const first = await runInDurableObject(stub, async (a) => {
      log(a);
      return a.tiering.archive(spec);
    });
    const again = await runInDurableObject(stub, async (a) => {
      log(a);
      a.run("INSERT INTO events (name, at) VALUES ('later', ?)", [T0 + DAY]);
      return a.tiering.archive(spec);
    });
    expect(first).toMatchObject({ done: true, rows: 2, files: 1 });
    expect(again).toMatchObject({ done: true, rows: 3, files: 2 });
    expect(again.keys[0]).not.toBe(first.keys[0]);
    expect(await q(stub, "SELECT count(*) AS n FROM events")).toEqual([{ n: 0 }]);
    const all = await runInDurableObject(stub, (a) =>
      a.tiering.unionQuery("events", "SELECT name, count(*) AS n FROM events GROUP BY name ORDER BY name"),
    );
    expect(all).toEqual([
      { name: "boot", n: 2 },
      { name: "later", n: 1 },
      { name: "stop", n: 2 },
    ]);
    expect(await runInDurableObject(stub, (a) => a.tiering.jobs())).toEqual([]);
  });

  it("hour and month partitions name their files by UTC hour and month", async () => {
    const { stub } = freshTiered("archparts");
    await stub.seedReadings(600, T0, 3 * 3_600_000);
    await stub.archiveReadings(CUTOFF, "hour");
    const hours = await runInDurableObject(stub, (a) => a.tiering.manifest());
    expect(hours.map((m) => m.partition)).toEqual(["2026-11-01T00", "2026-11-01T01", "2026-11-01T02"]);
    await stub.seedReadings(400, T0 - 40 * DAY, 80 * DAY, 10_000);
    await stub.archiveReadings(T0 + 60 * DAY, "month");
    const months = await runInDurableObject(stub, (a) => a.tiering.manifest());
    const monthly = months.filter((m) => m.partition.length === 7).map((m) => m.partition);
    expect(new Set(monthly)).toEqual(new Set(["2026-09", "2026-10", "2026-11", "2026-12"]));
  });

  it("refuses a table referenced by itself or by a name spelled in another case (archiving would cascade to hot rows)", async () => {
    const { name, stub } = freshTiered("archselffk");
    const result = await runInDurableObject(stub, async (a) => {
      a.run(
        "CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES nodes (id) ON DELETE CASCADE, ts INTEGER NOT NULL)",
      );
      a.run("CREATE TABLE owners (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL)");
      a.run(
        "CREATE TABLE pets (owner INTEGER NOT NULL REFERENCES Owners (id) ON DELETE CASCADE, ts INTEGER)",
      );
      // Old parents (archivable), each with a recent child (hot).
      a.run("INSERT INTO nodes (id, parent, ts) VALUES (1, NULL, ?), (2, 1, ?)", [T0, Date.now()]);
      a.run("INSERT INTO owners (id, ts) VALUES (1, ?)", [T0]);
      a.run("INSERT INTO pets (owner, ts) VALUES (1, ?)", [Date.now()]);
      const archive = (table: string) =>
        codeOf(() => a.tiering.archive({ table, timeColumn: "ts", olderThan: "1d", partition: "day" }));
      return {
        nodes: await archive("nodes"),
        owners: await archive("owners"),
        hot: a.query("SELECT (SELECT count(*) FROM nodes) AS nodes, (SELECT count(*) FROM pets) AS pets"),
      };
    });
    expect(result).toEqual({
      nodes: "ARCHIVE_UNSUPPORTED_TABLE",
      owners: "ARCHIVE_UNSUPPORTED_TABLE",
      hot: [{ nodes: 2, pets: 1 }],
    });
    expect(await r2Keys(`archive/${name}/`)).toEqual([]);
  });

  it("refuses bad specs with typed errors and writes nothing", async () => {
    const { name, stub } = freshTiered("archbad");
    await stub.seedReadings(100, T0, DAY);
    const archive = (spec: unknown) => runInDurableObject(stub, (a) => a.tiering.archive(spec as never));
    const good = { table: "readings", timeColumn: "ts", olderThan: CUTOFF, partition: "day" };
    expect(await codeOf(archive({ ...good, table: "nope" }))).toBe("TABLE_NOT_FOUND");
    expect(await codeOf(archive({ ...good, table: "_dosql_migrations" }))).toBe("TABLE_NOT_FOUND");
    expect(await codeOf(archive({ ...good, table: "building_counts" }))).toBe("ARCHIVE_UNSUPPORTED_TABLE");
    expect(await codeOf(archive({ ...good, table: "sensors", timeColumn: "id" }))).toBe(
      "ARCHIVE_UNSUPPORTED_TABLE",
    );
    expect(await codeOf(archive({ ...good, timeColumn: "when" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, partition: "week" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, olderThan: "7 days" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, olderThan: Number.NaN }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, prefix: "../escape" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, prefix: "a//b" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive({ ...good, timeUnit: "us" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(archive(null))).toBe("VALIDATION_FAILED");
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 100 }]);
    expect(await runInDurableObject(stub, (a) => a.tiering.manifest())).toEqual([]);
    expect(await runInDurableObject(stub, (a) => a.tiering.jobs())).toEqual([]);
    expect(await r2Keys(`archive/${name}/`)).toEqual([]);
  });
});
