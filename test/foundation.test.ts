import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { ActorError, applyMigrations, type MigrationBundle } from "../src/index";
import { firstOnly, fixtureBundle, fixtureMigrations } from "./fixtures/actors";

let seq = 0;
const fresh = (prefix: string) => env.FIXTURE.getByName(`${prefix}-${Date.now()}-${seq++}`);

afterEach(() => {
  fixtureMigrations.current = firstOnly(fixtureBundle);
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}

describe("database", () => {
  it("query and run are typed and parameterised", async () => {
    const stub = fresh("db");
    const a = await stub.addNote("hello");
    const b = await stub.addNote("it's 'quoted'; DROP TABLE notes;--");
    expect(b.id).toBe(a.id + 1);
    expect(await stub.listNotes()).toEqual([
      { id: a.id, body: "hello" },
      { id: b.id, body: "it's 'quoted'; DROP TABLE notes;--" },
    ]);
    const result = await runInDurableObject(stub, (actor) =>
      actor.run("UPDATE notes SET body = ? WHERE id >= ?", ["x", a.id]),
    );
    expect(result.changes).toBe(2);
  });

  it("transaction commits and returns the callback's value", async () => {
    const stub = fresh("tx");
    const last = await stub.addTwo("a", "b");
    const notes = await stub.listNotes();
    expect(notes.map((n) => n.body)).toEqual(["a", "b"]);
    expect(last).toBe(notes[1].id);
  });

  it("a throw inside transaction rolls back drizzle and raw writes", async () => {
    const stub = fresh("rollback");
    await stub.addNote("kept");
    expect(await codeOf(stub.addTwoThenFail("lost"))).toBe("ON_PURPOSE");
    expect((await stub.listNotes()).map((n) => n.body)).toEqual(["kept"]);
  });

  it("an async transaction callback is refused and writes nothing", async () => {
    const stub = fresh("async");
    expect(await codeOf(stub.asyncTransaction())).toBe("ASYNC_TRANSACTION");
    expect(await stub.listNotes()).toEqual([]);
  });

  it("ActorError code and details cross RPC", async () => {
    const stub = fresh("err");
    try {
      await stub.addNote("");
      expect.unreachable();
    } catch (err) {
      const e = ActorError.from(err);
      expect(e?.code).toBe("VALIDATION_FAILED");
      expect(e?.description).toBe("body is required");
      expect(e?.status).toBe(400);
    }
    const withDetails = new ActorError("INSUFFICIENT_STOCK", "only 3 left", { available: 3 });
    const back = ActorError.from(new Error(withDetails.message));
    expect(back?.details).toEqual({ available: 3 });
  });
});

describe("migrations", () => {
  it("are applied once, recorded, and survive eviction", async () => {
    const stub = fresh("mig");
    await stub.addNote("one");
    const first = await runInDurableObject(stub, (actor) => actor.schemaVersion());
    expect(first.version).toBe("0000_init");
    expect(first.applied).toEqual(["0000_init"]);
    await evictDurableObject(stub);
    const again = await runInDurableObject(stub, (actor) => ({
      report: actor.schemaVersion(),
      ledger: actor.query("SELECT tag FROM _dosql_migrations"),
    }));
    expect(again.report.applied).toEqual([]);
    expect(again.ledger).toEqual([{ tag: "0000_init" }]);
    expect((await stub.listNotes()).map((n) => n.body)).toEqual(["one"]);
  });

  it("a new migration is applied on the next wake of an existing actor", async () => {
    const stub = fresh("next");
    await stub.seedProjects(2, 1);
    fixtureMigrations.current = fixtureBundle;
    await evictDurableObject(stub);
    const report = await runInDurableObject(stub, (actor) => ({
      version: actor.schemaVersion(),
      budgets: actor.query("SELECT id, budget, typeof(budget) AS t FROM projects ORDER BY id"),
    }));
    expect(report.version.applied).toEqual(["0001_budget_integer"]);
    expect(report.budgets).toEqual([
      { id: 1, budget: 100, t: "integer" },
      { id: 2, budget: 200, t: "integer" },
    ]);
  });

  it("a drizzle-kit table rebuild of a parent keeps every child and grandchild row", async () => {
    const stub = fresh("cascade");
    await stub.seedProjects(5, 4);
    const before = await runInDurableObject(stub, (actor) =>
      actor.query(
        "SELECT t.id, t.project_id, t.title, c.body FROM tasks t JOIN comments c ON c.task_id = t.id ORDER BY t.id",
      ),
    );
    expect(before).toHaveLength(20);
    fixtureMigrations.current = fixtureBundle;
    await evictDurableObject(stub);
    const after = await runInDurableObject(stub, (actor) => ({
      rows: actor.query(
        "SELECT t.id, t.project_id, t.title, c.body FROM tasks t JOIN comments c ON c.task_id = t.id ORDER BY t.id",
      ),
      fk: actor.query("SELECT * FROM pragma_foreign_key_check"),
      holds: actor.query("SELECT name FROM sqlite_master WHERE name LIKE '_dosql_hold_%'"),
    }));
    expect(after.rows).toEqual(before);
    expect(after.fk).toEqual([]);
    expect(after.holds).toEqual([]);
    expect(await stub.tableCounts()).toEqual({ notes: 0, projects: 5, tasks: 20, comments: 20 });
  });

  it("without the safeguard the same migration would cascade-delete (the trap is real)", async () => {
    const stub = fresh("trap");
    await stub.seedProjects(2, 2);
    // Run the statements as written, in a transaction we inspect before rolling back.
    const lost = await runInDurableObject(stub, (_actor, state) => {
      let tasksLeft = -1;
      try {
        state.storage.transactionSync(() => {
          for (const s of fixtureBundle.migrations.m0001.split("--> statement-breakpoint"))
            if (s.trim()) state.storage.sql.exec(s);
          tasksLeft = Number(state.storage.sql.exec("SELECT count(*) AS n FROM tasks").one().n);
          throw new Error("rollback");
        });
      } catch {}
      return tasksLeft;
    });
    expect(lost).toBe(0);
    expect((await stub.tableCounts()).tasks).toBe(4);
  });

  it("a migration that would lose rows is rolled back with MIGRATION_WOULD_LOSE_ROWS", async () => {
    const stub = fresh("lose");
    await stub.seedProjects(2, 2);
    fixtureMigrations.current = withExtra(fixtureBundle, "0002_drop_projects", "DROP TABLE `projects`;");
    await evictDurableObject(stub);
    const err = ActorError.from(await stub.listNotes().catch((e) => e));
    expect(err?.code).toBe("MIGRATION_WOULD_LOSE_ROWS");
    expect(err?.details).toMatchObject({ migration: "0002_drop_projects" });
    expect([...((err?.details?.tables as string[]) ?? [])].sort()).toEqual(["comments", "tasks"]);
    fixtureMigrations.current = fixtureBundle;
    await evictDurableObject(stub);
    expect(await stub.tableCounts()).toEqual({ notes: 0, projects: 2, tasks: 4, comments: 4 });
  });

  it("an explicit DELETE FROM is not a loss", async () => {
    const stub = fresh("delete");
    await stub.addNote("x");
    fixtureMigrations.current = withExtra(
      firstOnly(fixtureBundle),
      "0001_clear_notes",
      "DELETE FROM `notes`;",
    );
    await evictDurableObject(stub);
    expect(await stub.listNotes()).toEqual([]);
  });

  it("a broken migration fails every call with MIGRATION_FAILED and leaves data untouched", async () => {
    const stub = fresh("broken");
    await stub.addNote("safe");
    fixtureMigrations.current = withExtra(
      fixtureBundle,
      "0002_broken",
      "CREATE TABLE `extra` (`id` integer);\n--> statement-breakpoint\nALTER TABLE `notes` ADD COLUMN `x` nonsense syntax here (;",
    );
    await evictDurableObject(stub);
    for (const call of [stub.listNotes(), stub.addNote("no")]) {
      const err = ActorError.from(await call.catch((e) => e));
      expect(err?.code).toBe("MIGRATION_FAILED");
      expect(err?.details).toEqual({ migration: "0002_broken" });
    }
    const res = await stub.fetch("http://actor/anything");
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("MIGRATION_FAILED");
    // The earlier migrations applied and the data is as it was: no `extra` table, the note intact.
    const state = await runInDurableObject(stub, (_actor, s) => ({
      tables: s.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'extra'").toArray(),
      notes: s.storage.sql.exec("SELECT body FROM notes").toArray(),
      ledger: s.storage.sql.exec("SELECT tag FROM _dosql_migrations ORDER BY idx").toArray(),
    }));
    expect(state).toEqual({
      tables: [],
      notes: [{ body: "safe" }],
      ledger: [{ tag: "0000_init" }, { tag: "0001_budget_integer" }],
    });
  });

  it("refuses an edited migration", async () => {
    const stub = fresh("edited");
    await stub.addNote("x");
    const edited = firstOnly(fixtureBundle);
    fixtureMigrations.current = {
      journal: edited.journal,
      migrations: { ...edited.migrations, m0000: `${edited.migrations.m0000}\n-- edited` },
    };
    await evictDurableObject(stub);
    expect(await codeOf(stub.listNotes())).toBe("MIGRATION_EDITED");
  });

  it("refuses a migration inserted before an applied one", async () => {
    const stub = fresh("order");
    await stub.addNote("x");
    const late = { idx: 0, tag: "0000_late", when: 1 };
    fixtureMigrations.current = {
      journal: { entries: [late, ...fixtureBundle.journal!.entries.map((e) => ({ ...e, idx: e.idx + 1 }))] },
      migrations: {
        m0000: "CREATE TABLE `late` (`id` integer);",
        m0001: fixtureBundle.migrations.m0000,
        m0002: fixtureBundle.migrations.m0001,
      },
    };
    await evictDurableObject(stub);
    const err = ActorError.from(await stub.listNotes().catch((e) => e));
    expect(err?.code).toBe("MIGRATION_OUT_OF_ORDER");
    expect(err?.details).toEqual({ migration: "0000_late" });
  });

  it("reads drizzle 1.0's journal-less layout in tag order", async () => {
    const stub = fresh("v1layout");
    const tags = await runInDurableObject(stub, (_actor, state) => {
      state.storage.sql.exec("DROP TABLE IF EXISTS _dosql_migrations");
      const report = applyMigrations(state.storage, {
        migrations: {
          "20260102000000_second": "CREATE TABLE `b` (`id` integer);",
          "20260101000000_first": "CREATE TABLE `a` (`id` integer);",
        },
      });
      return report.applied;
    });
    expect(tags).toEqual(["20260101000000_first", "20260102000000_second"]);
  });
});

function withExtra(bundle: MigrationBundle, tag: string, sql: string): MigrationBundle {
  const entries = bundle.journal!.entries;
  const idx = entries.length;
  return {
    journal: { entries: [...entries, { idx, tag, when: Date.now() }] },
    migrations: { ...bundle.migrations, [`m${String(idx).padStart(4, "0")}`]: sql },
  };
}
