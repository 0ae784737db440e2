// The query path of SqlActor (issue 13): which statements go beyond `sql.exec`, decided once per
// SQL text; words inside literals, quoted names and comments never count; writes are not
// materialised; values already bindable are bound as given.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ROUTE_CACHE_SIZE, ROUTE_CACHE_TEXT, Route, RouteCache, routeOf } from "../src/query-route";
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
