import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sqlExtensions } from "../src/sql/extensions";
import { findSources } from "../src/sql/sources";
import { DAY, T0, type TieredActor } from "./fixtures/tiered";
import { codeOf, freshTiered, leftovers, q, readingsRef } from "./tiering-helpers";

const CUTOFF = T0 + 3 * DAY;
const HOUR = 3_600_000;

/** An actor with 12,000 readings over 3 days archived (6 files) and 300 hot ones. */
async function archived(prefix: string, config?: Parameters<typeof freshTiered>[1]) {
  const actor = freshTiered(prefix, { chunkRows: 2_000, rowGroupRows: 500, ...config });
  await actor.stub.seedReadings(12_000, T0, 3 * DAY);
  await actor.stub.seedReadings(300, CUTOFF, HOUR, 50_000);
  const reference = {
    day2: await q(
      actor.stub,
      "SELECT sensor, count(*) AS n, sum(value) AS s FROM readings WHERE ts >= ? AND ts < ? GROUP BY sensor ORDER BY sensor",
      [T0 + DAY, T0 + 2 * DAY],
    ),
    byBuilding: await q(
      actor.stub,
      "SELECT b.building, count(*) AS n, sum(r.value) AS s FROM readings r JOIN sensors b ON b.id = r.sensor WHERE r.ts < ? GROUP BY b.building ORDER BY b.building",
      [CUTOFF],
    ),
    hour: await q(actor.stub, "SELECT count(*) AS n FROM readings WHERE ts BETWEEN ? AND ?", [
      T0 + DAY + 5 * HOUR,
      T0 + DAY + 6 * HOUR - 1,
    ]),
    either: await q(
      actor.stub,
      "SELECT count(*) AS n FROM readings WHERE ts < ? AND (ts < ? OR sensor = 's-a')",
      [CUTOFF, T0 + HOUR],
    ),
  };
  await actor.stub.archiveReadings(CUTOFF);
  return { ...actor, reference };
}

describe("cold queries", () => {
  it("prune files by the manifest's time range and row groups by their statistics", async () => {
    const { name, stub, reference } = await archived("qprune");
    const day2 = `SELECT sensor, count(*) AS n, sum(value) AS s FROM ${readingsRef(name)} WHERE ts >= ? AND ts < ? GROUP BY sensor ORDER BY sensor`;
    const params = [T0 + DAY, T0 + 2 * DAY];
    const [plan] = await runInDurableObject(stub, (a) => a.tiering.explain(day2, params));
    expect(plan).toMatchObject({ via: "manifest", files: 2, filesPruned: 4, rows: 4_000 });
    expect(await runInDurableObject(stub, (a) => a.query(day2, params))).toEqual(reference.day2);

    // One hour of one day: one file left, and inside it only the row group(s) holding that hour.
    const hour = `SELECT count(*) AS n FROM ${readingsRef(name)} r WHERE r.ts BETWEEN ? AND ?`;
    const hourParams = [T0 + DAY + 5 * HOUR, T0 + DAY + 6 * HOUR - 1];
    const [narrow] = await runInDurableObject(stub, (a) => a.tiering.explain(hour, hourParams));
    expect(narrow.files).toBe(1);
    expect(narrow.rowGroups).toBe(4);
    expect(narrow.rowGroupsPruned).toBeGreaterThanOrEqual(2);
    expect(await runInDurableObject(stub, (a) => a.query(hour, hourParams))).toEqual(reference.hour);

    // An OR widens the range: nothing may be pruned, and the answer stays right.
    const either = `SELECT count(*) AS n FROM ${readingsRef(name)} WHERE ts < ? OR sensor = 's-a'`;
    const [wide] = await runInDurableObject(stub, (a) => a.tiering.explain(either, [T0 + HOUR]));
    expect(wide).toMatchObject({ filesPruned: 0, rowGroupsPruned: 0, rows: 12_000 });
    expect(await runInDurableObject(stub, (a) => a.query(either, [T0 + HOUR]))).toEqual(reference.either);
  });

  it("join archived rows with hot tables and group them as before archiving", async () => {
    const { name, stub, reference } = await archived("qjoin");
    const sql = `SELECT b.building, count(*) AS n, sum(r.value) AS s FROM ${readingsRef(name)} AS r JOIN sensors b ON b.id = r.sensor GROUP BY b.building ORDER BY b.building`;
    expect(await runInDurableObject(stub, (a) => a.query(sql))).toEqual(reference.byBuilding);
    // Over RPC too: SqlActor.query routes SQL with an r2:// source to the cold path.
    expect(await q(stub, sql)).toEqual(reference.byBuilding);
    expect(await leftovers(stub)).toEqual([]);
  });

  it("read another actor's archive by listing R2 when no manifest covers the prefix", async () => {
    const owner = await archived("qowner");
    const reader = freshTiered("qreader");
    const sql = `SELECT sensor, count(*) AS n, sum(value) AS s FROM ${readingsRef(owner.name)} WHERE ts >= ? AND ts < ? GROUP BY sensor ORDER BY sensor`;
    const params = [T0 + DAY, T0 + 2 * DAY];
    const [plan] = await runInDurableObject(reader.stub, (a) => a.tiering.explain(sql, params));
    expect(plan).toMatchObject({ via: "listing", files: 6, filesPruned: 0 });
    // Row-group statistics still skip the other days' groups.
    expect(plan.rowGroupsPruned).toBe(plan.rowGroups - 8);
    expect(await runInDurableObject(reader.stub, (a) => a.query(sql, params))).toEqual(owner.reference.day2);
  });

  it("unionQuery spans hot and archived rows, counting rows archived during the query once", async () => {
    const { stub } = await archived("qunion");
    await stub.seedReadings(6_000, CUTOFF + HOUR, DAY, 60_000);
    const totals = "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(value) AS s FROM readings";
    const expected = await runInDurableObject(stub, (a) => a.tiering.unionQuery("readings", totals));
    expect(expected[0]).toMatchObject({ n: 18_300, d: 18_300 });

    // While the query reads its first file, an archive run moves more rows to R2.
    const during = await runInDurableObject(stub, async (a) => {
      let fired = false;
      a.tiering.store().hooks = {
        beforeGet: async () => {
          if (fired) return;
          fired = true;
          await a.tiering.archive({
            table: "readings",
            timeColumn: "ts",
            olderThan: CUTOFF + 2 * DAY,
            partition: "day",
          });
        },
      };
      const rows = await a.tiering.unionQuery("readings", totals);
      a.tiering.store().hooks = undefined;
      return { rows, fired, files: a.tiering.manifest().length };
    });
    expect(during.fired).toBe(true);
    expect(during.files).toBeGreaterThan(6);
    expect(during.rows).toEqual(expected);
    expect(await q(stub, "SELECT count(*) AS n FROM readings")).toEqual([{ n: 0 }]);
  });

  it("unionQuery: a column added after rows were archived reads its default there, as hot rows do", async () => {
    const { stub } = freshTiered("qadded");
    const result = await runInDurableObject(stub, async (a) => {
      a.run("CREATE TABLE logs (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, msg TEXT)");
      a.run("INSERT INTO logs (id, ts, msg) VALUES (1, ?, 'old'), (2, ?, 'kept')", [T0, Date.now()]);
      await a.tiering.archive({ table: "logs", timeColumn: "ts", olderThan: "1d", partition: "day" });
      a.run("ALTER TABLE logs ADD COLUMN level INTEGER NOT NULL DEFAULT 3");
      a.run("INSERT INTO logs (id, ts, msg, level) VALUES (3, ?, 'new', 5)", [Date.now()]);
      return {
        rows: await a.tiering.unionQuery("logs", "SELECT id, level FROM logs ORDER BY id"),
        three: await a.tiering.unionQuery("logs", "SELECT count(*) AS n FROM logs WHERE level = 3"),
      };
    });
    expect(result).toEqual({
      rows: [
        { id: 1, level: 3 },
        { id: 2, level: 3 },
        { id: 3, level: 5 },
      ],
      three: [{ n: 2 }],
    });
  });

  it("refuse a query past the row limit with QUERY_TOO_LARGE and leave nothing behind", async () => {
    const { name, stub } = await archived("qlarge", { maxColdRows: 5_000 });
    const all = `SELECT count(*) AS n FROM ${readingsRef(name)}`;
    expect(await codeOf(runInDurableObject(stub, (a) => a.query(all)))).toBe("QUERY_TOO_LARGE");
    expect(await leftovers(stub)).toEqual([]);
    const oneDay = `SELECT count(*) AS n FROM ${readingsRef(name)} WHERE ts >= ? AND ts < ?`;
    expect(await runInDurableObject(stub, (a) => a.query(oneDay, [T0, T0 + DAY]))).toEqual([{ n: 4_000 }]);
  });

  it("answer malformed references and unknown buckets with typed errors", async () => {
    const { name, stub } = await archived("qbad");
    const run = (sql: string) => codeOf(runInDurableObject(stub, (a) => a.tiering.query(sql)));
    expect(await run("SELECT * FROM 'r2://'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://ARCHIVE'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://ARCHIVE/archive/../x.parquet'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://ARCHIVE/archive/x.csv'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://ARCHIVE//x.parquet'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://ARCHIVE/a b.parquet'")).toBe("INVALID_R2_REFERENCE");
    expect(await run("SELECT * FROM 'r2://NOPE/archive/*.parquet'")).toBe("UNKNOWN_BUCKET");
    expect(await run("SELECT * FROM 'r2://TIERED/archive/*.parquet'")).toBe("UNKNOWN_BUCKET");
    expect(
      await codeOf(runInDurableObject(stub, (a) => a.tiering.unionQuery("nope", "SELECT 1 FROM nope"))),
    ).toBe("TABLE_NOT_FOUND");
    expect(await codeOf(runInDurableObject(stub, (a) => a.tiering.unionQuery("readings", "SELECT 1")))).toBe(
      "VALIDATION_FAILED",
    );
    // A SQL error in the rest of the query still drops the scratch table.
    expect(await run(`SELECT nope FROM ${readingsRef(name)}`)).toBe("SQL_ERROR");
    expect(await leftovers(stub)).toEqual([]);
    // r2:// inside an ordinary string is not a source: the hot path answers, synchronously.
    const hot = await runInDurableObject(stub, (a) => a.query("SELECT 'r2://ARCHIVE/x.parquet' AS s"));
    expect(hot).toEqual([{ s: "r2://ARCHIVE/x.parquet" }]);
    // A prefix matching no file reads as an empty table.
    expect(
      await runInDurableObject(stub, (a) =>
        a.tiering.query("SELECT count(*) AS n FROM 'r2://ARCHIVE/nothing/*.parquet'"),
      ),
    ).toEqual([{ n: 0 }]);
  });
});

/** A table made in the actor, archived whole; returns its r2:// reference. */
async function archiveTable(a: TieredActor, actorName: string, table: string, ddl: string, rows: string) {
  a.run(ddl);
  a.run(rows);
  await a.tiering.archive({ table, timeColumn: "ts", olderThan: Date.now() + DAY, partition: "month" });
  return `'r2://ARCHIVE/archive/${actorName}/${table}/*.parquet'`;
}

describe("cold = hot (issue 11)", () => {
  it("a mixed-type column: WHERE c = 'abc' finds the row cold as hot (pruning compares like the file)", async () => {
    const { name, stub } = freshTiered("qmixed", { rowGroupRows: 2 });
    const result = await runInDurableObject(stub, async (a) => {
      const rows =
        "INSERT INTO m (id, ts, c) VALUES (1, 1, 'abc'), (2, 2, 5), (3, 3, 2.5), (4, 4, x'00ff'), (5, 5, NULL), (6, 6, 'zz')";
      const queries = [
        ["SELECT id, c, typeof(c) AS t FROM SRC WHERE c = 'abc'", []],
        ["SELECT id FROM SRC WHERE c = ?", ["abc"]],
        ["SELECT id FROM SRC WHERE 'abc' = c", []],
        ["SELECT id FROM SRC WHERE c = 5.0", []],
        ["SELECT id FROM SRC WHERE c > 'a' ORDER BY id", []],
        ["SELECT id FROM SRC WHERE c >= 3 ORDER BY id", []],
        ["SELECT id, typeof(c) AS t FROM SRC WHERE c = x'00ff'", []],
      ] as const;
      a.run("CREATE TABLE m (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, c)");
      a.run(rows);
      const hot = queries.map(([sql, p]) => a.query(sql.replace("SRC", "m"), [...p]));
      a.run("DELETE FROM m");
      a.run("DROP TABLE m");
      const ref = await archiveTable(
        a,
        name,
        "m",
        "CREATE TABLE m (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, c)",
        rows,
      );
      const cold = [];
      for (const [sql, p] of queries) cold.push(await a.tiering.query(sql.replace("SRC", ref), [...p]));
      return { hot, cold };
    });
    expect(result.hot[0]).toEqual([{ id: 1, c: "abc", t: "text" }]);
    expect(result.cold).toEqual(result.hot);
  });

  it("a string compared with a numeric column is the number it spells: row groups are not pruned by it", async () => {
    const { name, stub } = freshTiered("qnumstr", { rowGroupRows: 2 });
    const result = await runInDurableObject(stub, async (a) => {
      // q: INTEGER affinity, only text in the file (STRING statistics); k: integers and text (JSON text).
      const ddl = "CREATE TABLE s (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, q INTEGER, k NUMERIC)";
      const rows =
        "INSERT INTO s (id, ts, q, k) VALUES (1, 1, '#1', 5), (2, 2, '#2', 6), (3, 3, 'zz', 'x'), (4, 4, '(a)', 'y')";
      const queries = [
        ["SELECT id FROM SRC WHERE q > '5' ORDER BY id", []],
        ["SELECT id FROM SRC WHERE q >= ? ORDER BY id", ["10"]],
        ["SELECT id FROM SRC WHERE ' 7' < q ORDER BY id", []],
        ["SELECT id FROM SRC WHERE k = '5'", []],
        ["SELECT id FROM SRC WHERE k = ?", ["6.0"]],
      ] as const;
      a.run(ddl);
      a.run(rows);
      const hot = queries.map(([sql, p]) => a.query(sql.replace("SRC", "s"), [...p]));
      a.run("DROP TABLE s");
      const ref = await archiveTable(a, name, "s", ddl, rows);
      const cold = [];
      for (const [sql, p] of queries) cold.push(await a.tiering.query(sql.replace("SRC", ref), [...p]));
      return { hot, cold };
    });
    expect(result.hot).toEqual([
      [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      [{ id: 1 }],
      [{ id: 2 }],
    ]);
    expect(result.cold).toEqual(result.hot);
  });

  it("infinities and -0.0 come back as they were, in REAL and mixed-type columns", async () => {
    const { name, stub } = freshTiered("qinf");
    const result = await runInDurableObject(stub, async (a) => {
      const ddl = "CREATE TABLE f (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, r REAL, m)";
      const rows =
        "INSERT INTO f (id, ts, r, m) VALUES (1, 1, 9e999, 9e999), (2, 2, -9e999, -9e999), (3, 3, -0.0, -0.0), (4, 4, 1.5, 'a')";
      const sql =
        "SELECT id, r, typeof(r) AS tr, CAST(r AS TEXT) AS cr, m, typeof(m) AS tm, CAST(m AS TEXT) AS cm FROM SRC ORDER BY id";
      a.run(ddl);
      a.run(rows);
      const hot = a.query(sql.replace("SRC", "f"));
      a.run("DROP TABLE f");
      const ref = await archiveTable(a, name, "f", ddl, rows);
      return { hot, cold: await a.tiering.query(sql.replace("SRC", ref)) };
    });
    expect(result.hot.slice(0, 3).map((r) => [r.r, r.tr, r.m, r.cm])).toEqual([
      [Infinity, "real", Infinity, "Inf"],
      [-Infinity, "real", -Infinity, "-Inf"],
      [0, "real", -0, "0.0"],
    ]);
    expect(result.cold).toEqual(result.hot);
  });

  it("text that is not valid UTF-8 (a lone surrogate bound from JavaScript, a cast blob) keeps its bytes", async () => {
    const { name, stub } = freshTiered("qutf8", { rowGroupRows: 1 });
    const lone = "x\ud800y";
    const result = await runInDurableObject(stub, async (a) => {
      const ddl = "CREATE TABLE u (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, t TEXT, m)";
      const rows: [string, unknown[]][] = [
        ["INSERT INTO u (id, ts, t, m) VALUES (1, 1, ?, ?)", [lone, lone]],
        ["INSERT INTO u (id, ts, t, m) VALUES (2, 2, CAST(x'ff61' AS TEXT), CAST(x'80' AS TEXT))", []],
        ["INSERT INTO u (id, ts, t, m) VALUES (3, 3, ?, 5)", ["\ufffd ok"]],
      ];
      const queries: [string, unknown[]][] = [
        ["SELECT id, hex(t) AS t, hex(m) AS m, typeof(m) AS tm FROM SRC ORDER BY id", []],
        ["SELECT id FROM SRC WHERE t = ?", [lone]],
        ["SELECT id FROM SRC WHERE m = ?", [lone]],
      ];
      a.run(ddl);
      for (const [sql, p] of rows) a.run(sql, p);
      const hot = queries.map(([sql, p]) => a.query(sql.replace("SRC", "u"), p));
      await a.tiering.archive({
        table: "u",
        timeColumn: "ts",
        olderThan: Date.now() + DAY,
        partition: "month",
      });
      const ref = `'r2://ARCHIVE/archive/${name}/u/*.parquet'`;
      const cold = [];
      for (const [sql, p] of queries) cold.push(await a.tiering.query(sql.replace("SRC", ref), p));
      return { hot, cold };
    });
    expect(result.hot[0]).toEqual([
      { id: 1, t: "78EDA08079", m: "78EDA08079", tm: "text" },
      { id: 2, t: "FF61", m: "80", tm: "text" },
      { id: 3, t: "EFBFBD206F6B", m: "35", tm: "integer" },
    ]);
    expect(result.hot.slice(1)).toEqual([[{ id: 1 }], [{ id: 1 }]]);
    expect(result.cold).toEqual(result.hot);
  });

  it("COLLATE NOCASE columns group, filter and sort cold as hot", async () => {
    const { name, stub } = freshTiered("qnocase", { rowGroupRows: 2 });
    const result = await runInDurableObject(stub, async (a) => {
      const ddl =
        "CREATE TABLE n (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, c TEXT COLLATE NOCASE, r VARCHAR(8) COLLATE RTRIM)";
      const rows =
        "INSERT INTO n (id, ts, c, r) VALUES (1, 1, 'abc', 'a'), (2, 2, 'ABC', 'a  '), (3, 3, 'Abc', 'b'), (4, 4, 'b', 'b '), (5, 5, 'B', 'c')";
      const queries = [
        "SELECT c, count(*) AS k FROM SRC GROUP BY c ORDER BY c",
        "SELECT id FROM SRC WHERE c = 'ABC' ORDER BY id",
        "SELECT id FROM SRC WHERE c > 'abc' ORDER BY id",
        "SELECT id FROM SRC ORDER BY c DESC, id",
        "SELECT count(DISTINCT r) AS d FROM SRC",
        "SELECT id FROM SRC WHERE r = 'a' ORDER BY id",
      ];
      a.run(ddl);
      a.run(rows);
      const hot = queries.map((sql) => a.query(sql.replace("SRC", "n")));
      a.run("DROP TABLE n");
      const ref = await archiveTable(a, name, "n", ddl, rows);
      const cold = [];
      for (const sql of queries) cold.push(await a.tiering.query(sql.replace("SRC", ref)));
      return { hot, cold };
    });
    expect(result.hot[0]).toHaveLength(2);
    expect(result.hot[1]).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(result.cold).toEqual(result.hot);
  });

  it("refuses a file whose metadata names a collation SQLite does not have", async () => {
    const { name, stub } = freshTiered("qbadcoll");
    const code = await runInDurableObject(stub, async (a) => {
      const ref = await archiveTable(
        a,
        name,
        "x",
        "CREATE TABLE x (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, c TEXT)",
        "INSERT INTO x VALUES (1, 1, 'a')",
      );
      // Rewrite the file's metadata as a tampered or foreign file would have it.
      const [file] = a.query<{ key: string }>("SELECT key FROM _dosql_archive_manifest WHERE tbl = 'x'");
      const { encodeParquet } = await import("../src/tiering/parquet-write");
      const bytes = await encodeParquet(
        [
          { name: "id", type: "INTEGER" },
          { name: "ts", type: "INTEGER" },
          { name: "c", type: "TEXT", collation: "EVIL) ; DROP TABLE x; --" },
        ],
        [[1, 1, "a"]],
        10,
      );
      await env.ARCHIVE.put(file.key, bytes);
      a.run("UPDATE _dosql_archive_manifest SET byte_size = ? WHERE key = ?", [bytes.byteLength, file.key]);
      return codeOf(() => a.tiering.query(`SELECT * FROM ${ref}`));
    });
    expect(code).toBe("ARCHIVE_FILE_CORRUPT");
  });
});

describe("finding sources and filters in SQL", () => {
  it("takes top-level AND conditions on the source, in either order, with literals and parameters", () => {
    const [s] = findSources(
      "SELECT * FROM 'r2://B/p/*.parquet' AS r WHERE r.ts >= ? AND 10 > value AND (sensor = 's-a' AND ts BETWEEN -5 AND ?2) AND x.y = 3 AND lower(note) = 'a'",
      [100, 200],
    );
    expect(s).toMatchObject({ kind: "url", scheme: "r2", ref: "r2://B/p/*.parquet", alias: "r" });
    expect(s.filters).toEqual([
      { column: "ts", op: ">=", value: 100 },
      { column: "value", op: "<", value: 10 },
      { column: "sensor", op: "=", value: "s-a" },
      { column: "ts", op: ">=", value: -5 },
      { column: "ts", op: "<=", value: 200 },
    ]);
  });

  it("ignores ORs, subqueries' WHEREs, strings and comments that only look like sources", () => {
    expect(findSources("SELECT * FROM 'r2://B/p.parquet' WHERE a = 1 OR b = 2", [])[0].filters).toEqual([]);
    const nested = findSources(
      "SELECT * FROM 'r2://B/p.parquet' c JOIN (SELECT id FROM h WHERE ts > 5) h2 ON h2.id = c.id WHERE c.v < 3",
      [],
    );
    expect(nested[0].filters).toEqual([{ column: "v", op: "<", value: 3 }]);
    expect(findSources("SELECT 'r2://B/p.parquet', x FROM t -- FROM 'r2://B/q.parquet'", [])).toEqual([]);
    expect(findSources("SELECT * FROM t WHERE s = 'FROM ''r2://B/q.parquet'''", [])).toEqual([]);
    const cased = findSources(
      "SELECT * FROM 'r2://B/p.parquet' WHERE CASE WHEN a AND b THEN 1 END AND ts = ?",
      [7],
    );
    expect(cased[0].filters).toEqual([{ column: "ts", op: "=", value: 7 }]);
    const two = findSources("SELECT * FROM readings r, 'r2://B/p.parquet' WHERE r.ts > 1", [], "readings");
    expect(two.map((s) => s.kind)).toEqual(["table", "url"]);
    expect(two[0].filters).toEqual([{ column: "ts", op: ">", value: 1 }]);
    expect(two[1].filters).toEqual([]);
  });

  it("a URL after IS [NOT] DISTINCT FROM is a value, not a source (a row holding it is found hot)", async () => {
    const { stub } = freshTiered("qdistinct");
    const url = "r2://ARCHIVE/files/a.parquet";
    await runInDurableObject(stub, (a) =>
      a.run(
        "INSERT INTO readings (id, sensor, ts, value, note) VALUES (1, 's-a', 1, 1, ?), (2, 's-a', 2, 2, NULL)",
        [url],
      ),
    );
    const same = `SELECT id FROM readings WHERE note IS NOT DISTINCT FROM '${url}' ORDER BY id`;
    const other = `SELECT id, 'https://x.test/a.csv' IS DISTINCT FROM note, 'r2://ARCHIVE/b.parquet' AS u FROM readings ORDER BY id`;
    expect(findSources(same, [])).toEqual([]);
    expect(findSources(other, [])).toEqual([]);
    expect(sqlExtensions(other)).toEqual({ systemTime: false, schemes: [] });
    expect(await q(stub, same)).toEqual([{ id: 1 }]);
    expect((await q(stub, other)).map((r) => Object.values(r))).toEqual([
      [1, 1, "r2://ARCHIVE/b.parquet"],
      [2, 1, "r2://ARCHIVE/b.parquet"],
    ]);
  });

  it("one scan answers what a statement needs rewritten, the same for every caller", () => {
    expect(sqlExtensions("SELECT * FROM t WHERE a = ?")).toEqual({ systemTime: false, schemes: [] });
    expect(sqlExtensions("SELECT * FROM 'r2://B/p/*.parquet' r JOIN t ON t.id = r.id")).toEqual({
      systemTime: false,
      schemes: ["r2"],
    });
    expect(sqlExtensions("SELECT * FROM t FOR SYSTEM_TIME AS OF ? JOIN 'HTTPS://x.test/a.csv' c")).toEqual({
      systemTime: true,
      schemes: ["https"],
    });
    // In strings, quoted names and comments they are not clauses.
    expect(sqlExtensions("SELECT 'r2://B/p.parquet', \"for system_time\" FROM t -- FOR SYSTEM_TIME")).toEqual(
      {
        systemTime: false,
        schemes: [],
      },
    );
    // The same text gives the same (cached) answer.
    const sql = "SELECT * FROM 'r2://B/q.parquet'";
    expect(sqlExtensions(sql)).toBe(sqlExtensions(sql));
  });

  it("numbers parameters as SQLite does: ?, ?NNN and named ones", async () => {
    const { tokenize } = await import("../src/sql/tokens");
    const params = tokenize("SELECT ?, ?5, ?, :a, @b, :a, $c, :1, 'not ?', \"?x\"")
      .filter((t) => t.kind === "param")
      .map((t) => [t.text, t.param]);
    expect(params).toEqual([
      ["?", 1],
      ["?5", 5],
      ["?", 6],
      [":a", 7],
      ["@b", 8],
      [":a", 7],
      ["$c", 9],
      [":1", 10],
    ]);
  });
});
