import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { quietTables, writeTargetOf } from "../src/history/quiet";
import type { Tracking } from "../src/history/tracking";
import { freshHistory, inside } from "./history-helpers";

describe("writes that capture nothing need no close", () => {
  it("a statement's target is read from its text; anything unclear has none", () => {
    const cases: [string, string | null][] = [
      ["INSERT INTO events (id) VALUES (1)", "events"],
      ["insert or replace into `Events` (id) values (?)", "events"],
      ['REPLACE INTO "my ""t""" VALUES (1);', 'my "t"'],
      ["UPDATE OR IGNORE main.events SET kind = 'x'", "events"],
      ["DELETE FROM [events] WHERE id = ?", "events"],
      ["/* c */ INSERT INTO events VALUES (1) -- trailing", "events"],
      ["INSERT INTO temp.events VALUES (1)", null],
      ["WITH x AS (SELECT 1) INSERT INTO events SELECT * FROM x", null],
      ["INSERT INTO events VALUES (1); INSERT INTO items VALUES (1)", null],
      ["SELECT 1", null],
      ["CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END", null],
    ];
    for (const [sql, target] of cases) expect(writeTargetOf(sql).target, sql).toBe(target);
    expect(writeTargetOf("CREATE TABLE x (a)").ddl).toBe(true);
    expect(writeTargetOf("drop trigger t").ddl).toBe(true);
    expect(writeTargetOf("INSERT INTO events VALUES (1); DROP TABLE items").ddl).toBe(true);
    expect(writeTargetOf("INSERT INTO events VALUES (1);").ddl).toBe(false);
  });

  it("quiet tables: not captured, no trigger of their own, no foreign key pointing at them", async () => {
    const stub = env.NO_HISTORY.getByName(`quiet-${Date.now()}`);
    const quiet = await runInDurableObject(stub, (_actor, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
      sql.exec("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent ON DELETE CASCADE)");
      sql.exec("CREATE TABLE loud (id INTEGER PRIMARY KEY)");
      sql.exec("CREATE TABLE guarded (id INTEGER PRIMARY KEY, at INTEGER)");
      sql.exec("CREATE TABLE plain (id INTEGER PRIMARY KEY)");
      sql.exec(
        "CREATE TRIGGER loud_t AFTER INSERT ON loud BEGIN INSERT INTO child (id) VALUES (NEW.id); END",
      );
      sql.exec(
        "CREATE TRIGGER _dosql_h_guarded_a BEFORE UPDATE ON guarded BEGIN SELECT RAISE(ABORT, 'no'); END",
      );
      // Triggers that write quiet tables alone keep their table quiet, through a chain; one that
      // reaches a captured table (here through \`loud\`), or runs anything but a write, does not.
      sql.exec("CREATE TABLE relay (id INTEGER PRIMARY KEY, v TEXT)");
      sql.exec("CREATE TABLE relay2 (id INTEGER PRIMARY KEY)");
      sql.exec("CREATE TABLE toloud (id INTEGER PRIMARY KEY)");
      sql.exec("CREATE TABLE selecting (id INTEGER PRIMARY KEY)");
      sql.exec(
        `CREATE TRIGGER relay_t AFTER INSERT ON relay WHEN NEW.v IS NOT NULL BEGIN
           INSERT INTO plain (id) VALUES (NEW.id) ON CONFLICT DO UPDATE SET id = CASE WHEN 1 THEN excluded.id END;
           INSERT INTO relay2 (id) SELECT NEW.id UNION ALL SELECT NEW.id + 1 WHERE NEW.v = ';';
         END`,
      );
      sql.exec(
        "CREATE TRIGGER relay2_t AFTER INSERT ON relay2 BEGIN DELETE FROM plain WHERE id = NEW.id; END",
      );
      sql.exec(
        "CREATE TRIGGER toloud_t AFTER INSERT ON toloud BEGIN INSERT INTO plain (id) VALUES (NEW.id); INSERT INTO loud (id) VALUES (NEW.id); END",
      );
      sql.exec(
        "CREATE TRIGGER selecting_t AFTER INSERT ON selecting BEGIN SELECT RAISE(ABORT, 'no') WHERE NEW.id < 0; END",
      );
      const tracking = {
        captured: new Map([["child", {}]]),
        appendOnly: new Map([["guarded", {}]]),
        skipped: [],
      } as unknown as Tracking;
      return [...quietTables(sql, tracking)];
    });
    expect(quiet).toContain("guarded");
    expect(quiet).toContain("plain");
    expect(quiet).not.toContain("parent");
    expect(quiet).not.toContain("child");
    expect(quiet).not.toContain("loud");
    expect(quiet).toContain("relay");
    expect(quiet).toContain("relay2");
    expect(quiet).not.toContain("toloud");
    expect(quiet).not.toContain("selecting");
  });

  it("a trigger added at runtime (DDL through the actor) makes its table capture again: the close runs", async () => {
    const stub = freshHistory("quiet-ddl");
    const wal = () =>
      inside(stub, (actor) => actor.query("SELECT tx, actor, mark, tbl FROM _dosql_wal ORDER BY lsn"));
    await inside(stub, (actor) => {
      actor.query("CREATE TABLE side (id INTEGER PRIMARY KEY, v TEXT)");
      // Quiet: written in a transaction of its own, nothing is recorded.
      actor.transaction(() => actor.run("INSERT INTO side (id, v) VALUES (1, 'a')"), { actor: "quiet" });
      actor.query(
        "CREATE TRIGGER side_to_items AFTER INSERT ON side BEGIN INSERT INTO items (id, name, qty) VALUES (NEW.id, NEW.v, 0); END",
      );
      actor.transaction(() => actor.run("INSERT INTO side (id, v) VALUES (2, 'b')"), {
        actor: "via-trigger",
      });
      actor.transaction(() => actor.run("INSERT INTO items (id, name, qty) VALUES (3, 'c', 0)"), {
        actor: "direct",
      });
    });
    expect(await wal()).toEqual([
      { tx: 1, actor: "via-trigger", mark: null, tbl: "items" },
      { tx: 2, actor: "direct", mark: null, tbl: "items" },
    ]);
  });
});
