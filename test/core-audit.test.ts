import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ActorError } from "../src/index";
import type { CoreAuditActor } from "./fixtures/core-audit";

type Stub = DurableObjectStub<CoreAuditActor>;
let seq = 0;
const fresh = (prefix: string): Stub => env.CORE_AUDIT.getByName(`${prefix}-${Date.now()}-${seq++}`);
const tick = (ms = 3) => new Promise((r) => setTimeout(r, ms));
const inside = <T>(stub: Stub, fn: (actor: CoreAuditActor) => T): Promise<T> =>
  runInDurableObject(stub, (actor: CoreAuditActor) => fn(actor));
/** The time now inside the actor, with the clock moved on both sides. */
async function pointInTime(stub: Stub): Promise<number> {
  await tick();
  const at = await inside(stub, () => Date.now());
  await tick();
  return at;
}
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}
const lastTx = (actor: CoreAuditActor) =>
  Number(actor.query<{ tx: number }>("SELECT tx FROM _dosql_wal ORDER BY lsn DESC LIMIT 1")[0].tx);

describe("core audit: history capture and time travel", () => {
  it("a change of case in a NOCASE column or key is captured: AS OF and undo see it", async () => {
    const stub = fresh("nocase");
    await inside(stub, (a) => {
      a.run("INSERT INTO users (id, email, name) VALUES (?, ?, ?)", [1, "ann@x.io", "Ann"]);
      a.run("INSERT INTO tags (name, n) VALUES (?, ?)", ["rust", 1]);
    });
    const t0 = await pointInTime(stub);
    const tx = await inside(stub, (a) => {
      a.transaction(() => {
        a.run("UPDATE users SET email = ? WHERE id = ?", ["Ann@X.io", 1]);
        a.run("UPDATE tags SET name = ? WHERE name = ?", ["Rust", "rust"]);
      });
      return lastTx(a);
    });
    const seen = await inside(stub, (a) => ({
      asOf: a.query("SELECT email FROM users FOR SYSTEM_TIME AS OF ? WHERE id = 1", [t0]),
      tagsAsOf: a.query("SELECT name FROM tags FOR SYSTEM_TIME AS OF ?", [t0]),
      feed: a.query("SELECT tbl, op FROM _dosql_wal ORDER BY lsn"),
    }));
    expect(seen.asOf).toEqual([{ email: "ann@x.io" }]);
    expect(seen.tagsAsOf).toEqual([{ name: "rust" }]);
    const undone = await inside(stub, (a) => {
      a.undo(tx);
      return { users: a.query("SELECT email FROM users"), tags: a.query("SELECT name FROM tags") };
    });
    expect(undone).toEqual({ users: [{ email: "ann@x.io" }], tags: [{ name: "rust" }] });
  });

  it("INSERT OR REPLACE deleting another row through UNIQUE is captured: AS OF and undo bring it back", async () => {
    const stub = fresh("replace");
    await inside(stub, (a) => a.run("INSERT INTO users (id, email, name) VALUES (1, 'b@x.io', 'B')"));
    const t0 = await pointInTime(stub);
    const tx = await inside(stub, (a) => {
      a.run("INSERT OR REPLACE INTO users (id, email, name) VALUES (2, 'b@x.io', 'B2')");
      return lastTx(a);
    });
    expect(
      await inside(stub, (a) => a.query("SELECT id, name FROM users FOR SYSTEM_TIME AS OF ?", [t0])),
    ).toEqual([{ id: 1, name: "B" }]);
    await inside(stub, (a) => a.undo(tx));
    expect(await inside(stub, (a) => a.query("SELECT id, name FROM users ORDER BY id"))).toEqual([
      { id: 1, name: "B" },
    ]);
  });

  it("WITHOUT ROWID with a composite key holding a blob: AS OF every step (delete, re-insert, NULLs) and restoreTo", async () => {
    const stub = fresh("wr");
    const snaps: { at: number; rows: unknown[] }[] = [];
    const Q = "SELECT a, hex(b) AS b, typeof(v) AS t, v FROM wr ORDER BY a, b";
    const snap = async () => {
      const at = await pointInTime(stub);
      snaps.push({ at, rows: await inside(stub, (a) => a.query(Q)) });
    };
    const blob = (n: number) => new Uint8Array([n, 0, 255]);
    await inside(stub, (a) => {
      a.run("INSERT INTO wr (a, b, v) VALUES (?, ?, ?), (?, ?, ?)", ["k", blob(1), null, "k", blob(2), 1.5]);
    });
    await snap();
    await inside(stub, (a) => a.run("UPDATE wr SET v = ? WHERE a = 'k'", [blob(9)]));
    await snap();
    await inside(stub, (a) => a.run("DELETE FROM wr WHERE b = ?", [blob(1)]));
    await snap();
    await inside(stub, (a) => a.run("INSERT INTO wr (a, b, v) VALUES (?, ?, ?)", ["k", blob(1), "back"]));
    await snap();
    await inside(stub, (a) => a.run("UPDATE wr SET v = NULL"));
    await snap();
    const Qasof = Q.replace("FROM wr", "FROM wr FOR SYSTEM_TIME AS OF ?");
    const seen = await inside(stub, (a) => snaps.map((s) => a.query(Qasof, [s.at])));
    expect(seen).toEqual(snaps.map((s) => s.rows));
    const restored = await inside(stub, (a) => {
      a.restoreTo(snaps[1].at);
      return a.query(Q);
    });
    expect(restored).toEqual(snaps[1].rows);
  });

  it("undo of one transaction over parents, children and an application trigger's rows reverts all of it", async () => {
    const stub = fresh("multi");
    await inside(stub, (a) => a.run("INSERT INTO users (id, email) VALUES (1, 'c@x.io')"));
    const before = await inside(stub, (a) => ({
      orders: a.query("SELECT * FROM orders"),
      lines: a.query("SELECT * FROM lines"),
      audit: a.query("SELECT * FROM audit"),
    }));
    const tx = await inside(stub, (a) => {
      a.transaction(() => {
        a.run("INSERT INTO orders (id, user_id, total) VALUES (10, 1, 9.5)");
        a.run("INSERT INTO lines (order_id, n, sku) VALUES (10, 1, 'a'), (10, 2, 'b')");
        a.run("UPDATE users SET name = 'C' WHERE id = 1");
      });
      return lastTx(a);
    });
    const after = await inside(stub, (a) => {
      a.undo(tx);
      return {
        orders: a.query("SELECT * FROM orders"),
        lines: a.query("SELECT * FROM lines"),
        audit: a.query("SELECT * FROM audit"),
        user: a.query("SELECT name FROM users"),
      };
    });
    expect(after).toEqual({ ...before, user: [{ name: null }] });
  });

  it("a throwing transaction leaves no rows and no WAL rows; a caught nested throw rolls back only its own", async () => {
    const stub = fresh("tx");
    const r = await inside(stub, (a) => {
      const lsn0 = a.query("SELECT coalesce(max(lsn),0) AS l FROM _dosql_wal")[0].l;
      const code = codeOf(() =>
        a.transaction(() => {
          a.run("INSERT INTO users (id, email) VALUES (1, 'd@x.io')");
          a.run("INSERT INTO tags (name, n) VALUES ('x', 1)");
          throw new ActorError("BOOM", "mid-way");
        }),
      );
      const lsn1 = a.query("SELECT coalesce(max(lsn),0) AS l FROM _dosql_wal")[0].l;
      a.transaction(
        () => {
          a.run("INSERT INTO users (id, email) VALUES (2, 'e@x.io')");
          try {
            a.transaction(() => {
              a.run("INSERT INTO tags (name, n) VALUES ('inner', 1)");
              throw new Error("inner");
            });
          } catch {}
          a.run("INSERT INTO tags (name, n) VALUES ('outer', 1)");
        },
        { actor: "outer" },
      );
      return {
        code,
        lsn0,
        lsn1,
        users: a.query("SELECT id FROM users"),
        tags: a.query("SELECT name FROM tags"),
        wal: a.query("SELECT tx, actor, mark, tbl, pk FROM _dosql_wal ORDER BY lsn"),
      };
    });
    expect(r.code).toBe("BOOM");
    expect(r.lsn1).toBe(r.lsn0);
    expect(r.users).toEqual([{ id: 2 }]);
    expect(r.tags).toEqual([{ name: "outer" }]);
    expect(r.wal).toEqual([
      { tx: 1, actor: "outer", mark: null, tbl: "users", pk: 2 },
      { tx: 1, actor: null, mark: null, tbl: "tags", pk: "outer" },
    ]);
  });

  it("an invalid Date or NaN parameter is a typed error, never a silent NULL", async () => {
    const stub = fresh("params");
    const r = await inside(stub, (a) => ({
      date: codeOf(() => a.run("INSERT INTO readings (id, ts, v) VALUES (1, ?, 1)", [new Date("nope")])),
      nan: codeOf(() => a.run("INSERT INTO readings (id, ts, v) VALUES (2, 1, ?)", [Number.NaN])),
      obj: codeOf(() => a.run("INSERT INTO readings (id, ts, v) VALUES (3, 1, ?)", [{}])),
      rows: a.query("SELECT id, ts, v FROM readings"),
    }));
    expect(r).toEqual({
      date: "VALIDATION_FAILED",
      nan: "VALIDATION_FAILED",
      obj: "VALIDATION_FAILED",
      rows: [],
    });
  });

  it("FOR SYSTEM_TIME reads a table named in another case, inside a CTE and a correlated subquery", async () => {
    const stub = fresh("case");
    await inside(stub, (a) => a.run("INSERT INTO users (id, email, name) VALUES (1, 'f@x.io', 'old')"));
    const t0 = await pointInTime(stub);
    await inside(stub, (a) => a.run("UPDATE users SET name = 'new'"));
    const r = await inside(stub, (a) => ({
      upper: codeOf(() => a.query("SELECT name FROM USERS FOR SYSTEM_TIME AS OF ?", [t0])),
      cte: a.query(
        "WITH o AS (SELECT id, name FROM users FOR SYSTEM_TIME AS OF ? WHERE id = ?) SELECT u.name AS now, o.name AS was FROM users u JOIN o ON o.id = u.id WHERE u.id = ?",
        [t0, 1, 1],
      ),
      sub: a.query(
        "SELECT name, (SELECT name FROM users FOR SYSTEM_TIME AS OF ? AS p WHERE p.id = users.id) AS was FROM users WHERE id = ?",
        [t0, 1],
      ),
    }));
    expect(r.cte).toEqual([{ now: "new", was: "old" }]);
    expect(r.sub).toEqual([{ name: "new", was: "old" }]);
    expect(r.upper).toBeUndefined();
  });
});

describe("core audit: archived rows and history", () => {
  const DAY = 86_400_000;
  const old = Date.UTC(2026, 0, 1);
  const seed = (a: CoreAuditActor) =>
    a.transaction(() => {
      for (let i = 1; i <= 6; i++)
        a.run("INSERT INTO readings (id, ts, v, tag) VALUES (?, ?, ?, ?)", [
          i,
          old + i * 3_600_000,
          i,
          i % 2 ? "odd" : null,
        ]);
    });
  const archive = (stub: Stub) =>
    runInDurableObject(stub, (a: CoreAuditActor) =>
      a.tiering.archive({ table: "readings", timeColumn: "ts", olderThan: old + 10 * DAY, partition: "day" }),
    );
  const COUNT = "SELECT count(*) AS n, sum(v) AS s FROM readings";
  const union = (stub: Stub) =>
    runInDurableObject(stub, (a: CoreAuditActor) => a.tiering.unionQuery("readings", COUNT));

  it("restoreTo a time before an archive leaves archived rows archived: cold and hot count each row once", async () => {
    const stub = fresh("arch-restore");
    await inside(stub, seed);
    const t0 = await pointInTime(stub);
    expect((await archive(stub)).done).toBe(true);
    // A row written after t0, hot: the restore removes it.
    await inside(stub, (a) => a.run("INSERT INTO readings (id, ts, v) VALUES (7, ?, 100)", [Date.now()]));
    expect(await union(stub)).toEqual([{ n: 7, s: 121 }]);
    const code = await inside(stub, (a) => codeOf(() => a.restoreTo(t0)));
    expect({ code, rows: await union(stub) }).toEqual({ code: undefined, rows: [{ n: 6, s: 21 }] });
  });

  it("restoreTo refuses (ARCHIVED, nothing written) when the archive holds another version than the one asked for", async () => {
    const stub = fresh("arch-changed");
    await inside(stub, seed);
    const t0 = await pointInTime(stub);
    await inside(stub, (a) => a.run("UPDATE readings SET v = 50 WHERE id = 2"));
    await archive(stub);
    const before = await inside(stub, (a) => a.query("SELECT max(lsn) AS l FROM _dosql_wal"));
    const code = await inside(stub, (a) => codeOf(() => a.restoreTo(t0)));
    expect(code).toBe("ARCHIVED");
    expect(await inside(stub, (a) => a.query("SELECT max(lsn) AS l FROM _dosql_wal"))).toEqual(before);
    expect(await union(stub)).toEqual([{ n: 6, s: 69 }]);
  });

  it("undo of the archive's transaction is refused with ARCHIVED; the reserved actor name is refused to callers", async () => {
    const stub = fresh("arch-undo");
    await inside(stub, seed);
    await archive(stub);
    const tx = await inside(stub, lastTx);
    const r = await inside(stub, (a) => ({
      undo: codeOf(() => a.undo(tx)),
      tx: codeOf(() => a.transaction(() => a.run("DELETE FROM readings"), { actor: "archive" })),
      restore: codeOf(() => a.restoreTo(Date.now(), { actor: "archive" })),
    }));
    expect(r).toEqual({ undo: "ARCHIVED", tx: "VALIDATION_FAILED", restore: "VALIDATION_FAILED" });
    expect(await union(stub)).toEqual([{ n: 6, s: 21 }]);
  });

  it("merging a branch that archived rows does not delete them from the parent", async () => {
    const stub = fresh("arch-merge");
    await inside(stub, seed);
    const name = `arch-merge-branch-${Date.now()}-${seq++}`;
    await inside(stub, (a) => a.branch(name));
    const branch = env.CORE_AUDIT.getByName(name);
    await inside(branch, (a) => a.run("UPDATE readings SET v = 10 WHERE id = 1"));
    expect((await archive(branch)).done).toBe(true);
    await inside(stub, (a) => a.merge(name));
    expect(await inside(stub, (a) => a.query("SELECT id, v FROM readings ORDER BY id"))).toEqual([
      { id: 1, v: 10 },
      { id: 2, v: 2 },
      { id: 3, v: 3 },
      { id: 4, v: 4 },
      { id: 5, v: 5 },
      { id: 6, v: 6 },
    ]);
  });
  it("merging a branch's change to a row the parent archived is refused with ARCHIVED: cold and hot never count it twice", async () => {
    const stub = fresh("arch-parent");
    await inside(stub, seed);
    const name = `arch-parent-branch-${Date.now()}-${seq++}`;
    await inside(stub, (a) => a.branch(name));
    const branch = env.CORE_AUDIT.getByName(name);
    // The branch changes row 1 and deletes row 2; the parent archives all six meanwhile.
    await inside(branch, (a) => a.run("UPDATE readings SET v = 10 WHERE id = 1"));
    await inside(branch, (a) => a.run("DELETE FROM readings WHERE id = 2"));
    expect((await archive(stub)).done).toBe(true);
    const lsn = () => inside(stub, (a) => a.query("SELECT max(lsn) AS l FROM _dosql_wal"));
    const before = await lsn();
    const codes: Record<string, string | undefined> = {};
    for (const onConflict of ["theirs", "ours", "fail"] as const) {
      codes[onConflict] = await inside(stub, async (a) => {
        try {
          const r = await a.merge(name, { onConflict });
          return `merged=${r.merged} conflicts=${r.conflicts.length}`;
        } catch (err) {
          return ActorError.from(err)?.code ?? String(err);
        }
      });
    }
    // Taking the branch's rows would write row 1 back hot (read twice) and leave row 2 in the
    // archive (the delete lost): refused whatever the policy, and nothing written.
    expect(codes).toEqual({ theirs: "ARCHIVED", ours: "ARCHIVED", fail: "ARCHIVED" });
    expect(await lsn()).toEqual(before);
    expect(await union(stub)).toEqual([{ n: 6, s: 21 }]);
  });
});

describe("core audit: column types", () => {
  it("an untyped column changing from integer 1 to real 1.0 is captured, and restoreTo puts the integer back", async () => {
    const stub = fresh("types");
    await inside(stub, (a) => a.run("INSERT INTO wr (a, b, v) VALUES ('t', x'00', 1)"));
    const t0 = await pointInTime(stub);
    await inside(stub, (a) => a.run("UPDATE wr SET v = 1.0"));
    const r = await inside(stub, (a) => {
      const now = a.query("SELECT typeof(v) AS t FROM wr");
      const was = a.query("SELECT typeof(v) AS t FROM wr FOR SYSTEM_TIME AS OF ?", [t0]);
      a.restoreTo(t0);
      return { now, was, restored: a.query("SELECT typeof(v) AS t FROM wr") };
    });
    expect(r).toEqual({ now: [{ t: "real" }], was: [{ t: "integer" }], restored: [{ t: "integer" }] });
  });
});

describe("core audit: application triggers with history on", () => {
  it("a self-updating trigger with a WHEN guard runs once and is captured; without one the statement fails and writes nothing", async () => {
    const stub = fresh("selftrigger");
    const r = await inside(stub, (a) => {
      a.run("INSERT INTO users (id, email, name) VALUES (1, 'g@x.io', 'G')");
      a.query(
        "CREATE TRIGGER users_touch AFTER UPDATE ON users WHEN NEW.name IS OLD.name BEGIN UPDATE users SET name = coalesce(NEW.name, '') || '!' WHERE id = NEW.id; END",
      );
      a.run("UPDATE users SET email = ? WHERE id = ?", ["h@x.io", 1]);
      const guarded = a.query("SELECT email, name FROM users");
      const captured = a.query("SELECT op, after FROM _dosql_wal WHERE tbl = 'users' ORDER BY lsn");
      a.query("DROP TRIGGER users_touch");
      a.query(
        "CREATE TRIGGER users_loop AFTER UPDATE ON users BEGIN UPDATE users SET name = coalesce(NEW.name, '') || '!' WHERE id = NEW.id; END",
      );
      const failed = codeOf(() => a.run("UPDATE users SET email = ? WHERE id = ?", ["i@x.io", 1]));
      return { guarded, captured, failed, after: a.query("SELECT email, name FROM users") };
    });
    expect(r.guarded).toEqual([{ email: "h@x.io", name: "G!" }]);
    expect(r.captured.map((c) => c.op)).toEqual(["I", "U", "U"]);
    expect(r.failed).toBeDefined();
    expect(r.after).toEqual([{ email: "h@x.io", name: "G!" }]);
  });
});
