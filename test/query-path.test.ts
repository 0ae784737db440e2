// The query path of SqlActor (issue 13): which statements go beyond `sql.exec`, decided once per
// SQL text; words inside literals, quoted names and comments never count; writes are not
// materialised; values already bindable are bound as given.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ActorError } from "../src/index";
import { ROUTE_CACHE_SIZE, ROUTE_CACHE_TEXT, Route, RouteCache, routeOf } from "../src/query-route";
import { runPlanOf } from "../src/sql-statement";
import { codeOf } from "./history-helpers";

const fixture = () => env.FIXTURE.getByName(`query-path-${crypto.randomUUID()}`);

describe("routeOf", () => {
  it("does not route system_time or r2:// found only inside a literal, a quoted name or a comment", () => {
    for (const sql of [
      "SELECT 'FOR SYSTEM_TIME AS OF 1' AS s",
      "SELECT * FROM notes WHERE body = 'x FOR SYSTEM_TIME ALL'",
      'SELECT "for system_time" FROM notes',
      "SELECT 1 -- FOR SYSTEM_TIME AS OF 5",
      "SELECT 1 /* FROM 'r2://ARCHIVE/x.parquet' */",
      "SELECT 'r2://ARCHIVE/x.parquet' AS s",
      "SELECT * FROM notes WHERE body = 'FROM ''r2://ARCHIVE/q.parquet'''",
      "SELECT system_time FROM notes",
    ])
      expect(routeOf(sql), sql).toBe(Route.Rows);
    expect(routeOf("INSERT INTO notes (body) VALUES ('FROM ''r2://B/x.parquet'' FOR SYSTEM_TIME')")).toBe(
      Route.Write,
    );
  });

  it("routes a real clause to history and an r2:// source to tiering", () => {
    expect(routeOf("SELECT * FROM items FOR SYSTEM_TIME AS OF ?")).toBe(Route.TimeTravel);
    expect(routeOf("select * from items for  system_time all")).toBe(Route.TimeTravel);
    expect(routeOf("SELECT count(*) FROM 'r2://ARCHIVE/a/*.parquet'")).toBe(Route.Cold);
    expect(routeOf("SELECT * FROM t JOIN 'r2://ARCHIVE/a/*.parquet' r ON r.id = t.id")).toBe(Route.Cold);
    expect(routeOf("SELECT * FROM t, 'r2://ARCHIVE/a/*.parquet' r")).toBe(Route.Cold);
    expect(routeOf("SELECT a, 'r2://ARCHIVE/a.parquet' FROM t")).toBe(Route.Rows);
  });

  it("leaves unread only a single write without RETURNING", () => {
    expect(routeOf("INSERT INTO notes (body) VALUES (?)")).toBe(Route.Write);
    expect(routeOf("  update notes SET body = ?")).toBe(Route.Write);
    expect(routeOf("DELETE FROM notes;  ")).toBe(Route.Write);
    expect(routeOf("REPLACE INTO notes (id, body) VALUES (1, 'x')")).toBe(Route.Write);
    expect(routeOf("INSERT INTO notes (body) VALUES (?) RETURNING id")).toBe(Route.Rows);
    expect(routeOf("DELETE FROM notes; SELECT 1")).toBe(Route.Rows);
    expect(routeOf("WITH x AS (SELECT 1) INSERT INTO notes (body) SELECT 'a' FROM x")).toBe(Route.Rows);
    expect(routeOf("SELECT 1")).toBe(Route.Rows);
  });

  it("remembers a bounded number of texts and decides each text once", () => {
    let decided = 0;
    const cache = new RouteCache((sql) => {
      decided++;
      return routeOf(sql);
    });
    for (let i = 0; i < 3; i++) cache.get("SELECT 1");
    expect(decided).toBe(1);
    for (let i = 0; i < ROUTE_CACHE_SIZE * 2; i++) cache.get(`SELECT ${i}`);
    expect(cache.size).toBe(ROUTE_CACHE_SIZE);
    // The newest are kept, the oldest forgotten (decided again when they come back).
    decided = 0;
    cache.get(`SELECT ${ROUTE_CACHE_SIZE * 2 - 1}`);
    expect(decided).toBe(0);
    cache.get("SELECT 1");
    expect(decided).toBe(1);
    // A long text is routed, and routed right, but not kept.
    const long = `SELECT '${"x".repeat(ROUTE_CACHE_TEXT)}' FROM 'r2://ARCHIVE/a.parquet'`;
    expect(cache.get(long)).toBe(Route.Cold);
    expect(cache.get(long)).toBe(Route.Cold);
    expect(decided).toBe(3);
  });
});

describe("SqlActor.query on an actor without history or tiering", () => {
  it("answers literals holding system_time or r2:// synchronously, unrewritten", async () => {
    const rows = await runInDurableObject(fixture(), (actor) => {
      const result = actor.query("SELECT 'x FOR SYSTEM_TIME AS OF 1' AS s, 'r2://ARCHIVE/x.parquet' AS r");
      return { isPromise: result instanceof Promise, rows: result };
    });
    expect(rows).toEqual({
      isPromise: false,
      rows: [{ s: "x FOR SYSTEM_TIME AS OF 1", r: "r2://ARCHIVE/x.parquet" }],
    });
  });

  it("refuses a real clause with HISTORY_DISABLED and an r2:// source with TIERING_DISABLED", async () => {
    const stub = fixture();
    const inside = (sql: string) =>
      runInDurableObject(stub, async (actor) => {
        await actor.query(sql);
      });
    expect((await codeOf(inside("SELECT * FROM notes FOR SYSTEM_TIME AS OF 1")))?.code).toBe(
      "HISTORY_DISABLED",
    );
    expect((await codeOf(inside("SELECT * FROM 'r2://ARCHIVE/x/*.parquet'")))?.code).toBe("TIERING_DISABLED");
    expect((await codeOf(Promise.resolve(stub.tiering)))?.code).toBe("TIERING_DISABLED");
  });

  it("runs a write without reading its cursor: the row is there and the table can be dropped", async () => {
    const result = await runInDurableObject(fixture(), (actor) => {
      actor.query("CREATE TABLE scratch (id INTEGER PRIMARY KEY, v TEXT)");
      const inserted = actor.query("INSERT INTO scratch (v) VALUES (?)", ["a"]);
      const run = actor.run("INSERT INTO scratch (v) VALUES (?)", ["b"]);
      actor.query("UPDATE scratch SET v = v || '!' WHERE id = ?", [1]);
      const rows = actor.query("SELECT id, v FROM scratch ORDER BY id");
      const returned = actor.query("INSERT INTO scratch (v) VALUES ('c') RETURNING id");
      // An unfinished cursor would make DROP TABLE fail with SQLITE_LOCKED.
      actor.query("DROP TABLE scratch");
      return { inserted, run, rows, returned };
    });
    expect(result).toEqual({
      inserted: [],
      run: { changes: 1, lastRowId: 2 },
      rows: [
        { id: 1, v: "a!" },
        { id: 2, v: "b" },
      ],
      returned: [{ id: 3 }],
    });
  });

  it("binds ready values as given and converts the others, leaving the caller's array as it was", async () => {
    const result = await runInDurableObject(fixture(), (actor) => {
      const ready = ["s", 1.5, null];
      const mixed = [true, new Date(86_400_000), 7n, new Uint8Array([1, 2]), undefined];
      const a = actor.query("SELECT ? AS s, ? AS n, ? AS z", ready);
      const b = actor.query("SELECT ? AS t, ? AS d, ? AS b, hex(?) AS x, ? AS u", mixed);
      return { a, b, ready, mixedTypes: mixed.map((v) => typeof v) };
    });
    expect(result.a).toEqual([{ s: "s", n: 1.5, z: null }]);
    expect(result.b).toEqual([{ t: 1, d: 86_400_000, b: 7, x: "0102", u: null }]);
    expect(result.ready).toEqual(["s", 1.5, null]);
    expect(result.mixedTypes).toEqual(["boolean", "object", "bigint", "object", "undefined"]);
  });

  it("answers bad SQL and bad params with typed errors", async () => {
    const stub = fixture();
    const code = (fn: (actor: any) => unknown) =>
      codeOf(runInDurableObject(stub, async (actor) => void (await fn(actor))));
    expect((await code((a) => a.query(42)))?.code).toBe("VALIDATION_FAILED");
    expect((await code((a) => a.query("")))?.code).toBe("VALIDATION_FAILED");
    expect((await code((a) => a.query("SELECT ?", "x")))?.code).toBe("VALIDATION_FAILED");
    expect((await code((a) => a.run("SELECT ?", [{}])))?.code).toBe("VALIDATION_FAILED");
  });

  it("answers SQLite's errors for the caller's SQL as SQL_ERROR (400, SQLite's message and code), over RPC too", async () => {
    const stub = fixture();
    const inside = await runInDurableObject(stub, (actor) => {
      actor.query("CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)");
      actor.run("INSERT INTO u (v) VALUES ('a')");
      const caught = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          const e = err as ActorError;
          return { name: e.name, code: e.code, status: e.status, details: e.details, message: e.message };
        }
      };
      return {
        syntax: caught(() => actor.query("SELEC 1")),
        unknown: caught(() => actor.query("SELECT nope FROM u")),
        unique: caught(() => actor.run("INSERT INTO u (v) VALUES ('a')")),
        inTransaction: caught(() => actor.transaction(() => actor.run("INSERT INTO u (v) VALUES (NULL)"))),
        rows: actor.query("SELECT count(*) AS n FROM u")[0].n,
      };
    });
    expect(inside.syntax).toMatchObject({
      name: "ActorError",
      code: "SQL_ERROR",
      status: 400,
      details: { sqlite: "SQLITE_ERROR" },
    });
    expect(inside.syntax?.message).toContain("syntax error");
    expect(inside.unknown).toMatchObject({ code: "SQL_ERROR" });
    expect(inside.unique).toMatchObject({ code: "SQL_ERROR", details: { sqlite: "SQLITE_CONSTRAINT" } });
    expect(inside.unique?.message).toContain("UNIQUE constraint failed");
    expect(inside.inTransaction).toMatchObject({ code: "SQL_ERROR" });
    expect(inside.rows).toBe(1);
    // Over a real RPC stub the code arrives.
    const rpc = stub as unknown as { query(sql: string): Promise<unknown> };
    expect((await codeOf(rpc.query("SELEC 1")))?.code).toBe("SQL_ERROR");
  });
});

describe("run() in one statement", () => {
  it("gives a single write a RETURNING of its own, after any trailing ; and comment", () => {
    expect(runPlanOf("INSERT INTO t (v) VALUES (?);  -- note")).toEqual({
      kind: "returning",
      sql: "INSERT INTO t (v) VALUES (?) RETURNING _rowid_ AS r",
      insert: true,
      checked: false,
    });
    expect(
      runPlanOf("INSERT INTO t (k, v) VALUES ('returning', ?), (?, ?) ON CONFLICT (k) DO NOTHING"),
    ).toMatchObject({
      kind: "returning",
      sql: "INSERT INTO t (k, v) VALUES ('returning', ?), (?, ?) ON CONFLICT (k) DO NOTHING RETURNING _rowid_ AS r",
      insert: true,
    });
    // Statements whose changed rows are not bounded by their own text (an UPDATE or DELETE of a
    // whole table, an INSERT … SELECT) ask changes() instead of reading every changed row back.
    expect(runPlanOf("UPDATE t SET v = 'returning' WHERE id > ?")).toEqual({ kind: "ask", insert: false });
    expect(runPlanOf("DELETE FROM t WHERE v < ?")).toEqual({ kind: "ask", insert: false });
    expect(runPlanOf("INSERT INTO t (v) SELECT v FROM u")).toEqual({ kind: "ask", insert: true });
    expect(runPlanOf("WITH x(v) AS (SELECT 1) INSERT INTO t (v) SELECT v FROM x")).toEqual({
      kind: "ask",
      insert: true,
    });
    expect(runPlanOf("INSERT INTO t DEFAULT VALUES")).toMatchObject({ kind: "returning", insert: true });
    expect(runPlanOf("INSERT INTO t (v) VALUES (1) RETURNING id")).toEqual({ kind: "ask", insert: true });
    expect(runPlanOf("DELETE FROM t; DELETE FROM u")).toEqual({ kind: "ask", insert: false });
    expect(runPlanOf("DELETE FROM t ORDER BY id LIMIT 1")).toEqual({ kind: "ask", insert: false });
    expect(runPlanOf("CREATE TABLE x (a)")).toEqual({ kind: "none" });
    expect(runPlanOf("SELECT 1")).toEqual({ kind: "none" });
  });

  it("answers exact changes and lastRowId: ignored rows, upserts, triggers, WITHOUT ROWID, a schema change", async () => {
    const result = await runInDurableObject(fixture(), (actor) => {
      actor.query("CREATE TABLE r (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v INTEGER)");
      actor.query("CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)");
      actor.query(
        "CREATE TRIGGER r_audit AFTER INSERT ON r BEGIN INSERT INTO audit (id, note) VALUES (1000 + NEW.id, 'x'); END",
      );
      const ins = "INSERT OR IGNORE INTO r (id, k, v) VALUES (?, ?, ?)";
      const out: Record<string, unknown> = {
        first: actor.run(ins, [5, "a", 1]),
        ignored: actor.run(ins, [6, "a", 1]),
        many: actor.run("INSERT INTO r (k, v) VALUES ('b', 2), ('c', 3); -- two"),
        none: actor.run("UPDATE r SET v = v + 1 WHERE id < 0"),
        updated: actor.run("UPDATE r SET v = v + 1 WHERE id > ?", [5]),
        upsert: actor.run(
          "INSERT INTO r (k, v) VALUES ('a', 9) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        ),
        deleted: actor.run("DELETE FROM r WHERE v > 2"),
        audit: actor.query("SELECT count(*) AS n FROM audit")[0].n,
        returning: actor.run("INSERT INTO r (k, v) VALUES ('d', 4) RETURNING id"),
      };
      actor.query("CREATE TABLE w (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID");
      out.withoutRowid = actor.run("INSERT INTO w (k, v) VALUES (?, ?)", ["x", 1]);
      out.withoutRowidUpdate = actor.run("UPDATE w SET v = 2 WHERE k = ?", ["x"]);
      // The same text after its table became WITHOUT ROWID: the cached RETURNING no longer prepares.
      const same = "INSERT INTO s (k) VALUES (?)";
      actor.query("CREATE TABLE s (k TEXT PRIMARY KEY)");
      out.before = actor.run(same, ["p"]);
      actor.query("DROP TABLE s");
      actor.query("CREATE TABLE s (k TEXT PRIMARY KEY) WITHOUT ROWID");
      out.after = actor.run(same, ["q"]);
      out.rows = actor.query("SELECT k FROM s");
      return out;
    });
    expect(result).toEqual({
      first: { changes: 1, lastRowId: 5 },
      ignored: { changes: 0, lastRowId: 0 },
      many: { changes: 2, lastRowId: 7 },
      none: { changes: 0, lastRowId: 0 },
      updated: { changes: 2, lastRowId: 0 },
      // An upsert that updated: the row it wrote (changes() counts it too).
      upsert: { changes: 1, lastRowId: 5 },
      deleted: { changes: 3, lastRowId: 0 },
      audit: 3,
      // Its own RETURNING: asked after it (the table is empty again, so rowid 1).
      returning: { changes: 1, lastRowId: 1 },
      withoutRowid: { changes: 1, lastRowId: expect.any(Number) },
      withoutRowidUpdate: { changes: 1, lastRowId: 0 },
      before: { changes: 1, lastRowId: 1 },
      after: { changes: 1, lastRowId: expect.any(Number) },
      rows: [{ k: "q" }],
    });
  });

  it("a failing write throws its own error and leaves nothing behind", async () => {
    const result = await runInDurableObject(fixture(), (actor) => {
      actor.query("CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER CHECK (v > 0))");
      let message = "";
      try {
        actor.run("INSERT INTO c (v) VALUES (?)", [-1]);
      } catch (err) {
        message = String(err);
      }
      return { message, rows: actor.query("SELECT count(*) AS n FROM c")[0].n };
    });
    expect(result.message).toContain("CHECK constraint failed");
    expect(result.rows).toBe(0);
  });
});

describe("SqlActor.query with history and tiering configured", () => {
  it("still leaves literals alone, and routes the real clause and the real source", async () => {
    const tiered = env.TIERED.getByName(`query-path-${crypto.randomUUID()}`);
    const literal = await runInDurableObject(tiered, (actor) => {
      const result = actor.query("SELECT 'FROM ''r2://ARCHIVE/x.parquet''' AS s");
      return { isPromise: result instanceof Promise, rows: result };
    });
    expect(literal).toEqual({ isPromise: false, rows: [{ s: "FROM 'r2://ARCHIVE/x.parquet'" }] });
    const cold = await runInDurableObject(tiered, (actor) => {
      const result = actor.query("SELECT count(*) AS n FROM 'r2://ARCHIVE/nothing/*.parquet'");
      return result instanceof Promise;
    });
    expect(cold).toBe(true);

    const history = env.HISTORY.getByName(`query-path-${crypto.randomUUID()}`);
    const rows = await runInDurableObject(history, (actor) => {
      actor.addItem(1, "one", 1);
      return {
        literal: actor.query("SELECT 'items FOR SYSTEM_TIME AS OF 0' AS s"),
        asOf: actor.query("SELECT id, name FROM items FOR SYSTEM_TIME AS OF ?", [Date.now() + 1]),
      };
    });
    expect(rows).toEqual({
      literal: [{ s: "items FOR SYSTEM_TIME AS OF 0" }],
      asOf: [{ id: 1, name: "one" }],
    });
  });
});
