import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { ActorError, type MigrationBundle } from "../src/index";
import { cases, type MigratingActor, migrationCase, upTo } from "./fixtures/migration-actors";

// Every case below runs real drizzle-kit output (test/fixtures/migration-cases/*/drizzle, made by
// generate.mjs there from one schema change at a time) in workerd's DO SQLite, where foreign keys
// are always enforced.

let seq = 0;
type Stub = DurableObjectStub<MigratingActor>;

/** A new actor with the first `count` migrations of `bundle` applied. */
async function actorAt(bundle: MigrationBundle, count: number): Promise<Stub> {
  migrationCase.current = upTo(bundle, count);
  const stub = env.MIGRATING.getByName(`m-${Date.now()}-${seq++}`);
  await runInDurableObject(stub, (actor) => actor.schemaVersion());
  return stub;
}

/** Deploy `bundle`: the next wake-up applies what is pending. Answers the wake's error, if any. */
async function deploy(stub: Stub, bundle: MigrationBundle): Promise<ActorError | undefined> {
  migrationCase.current = bundle;
  await evictDurableObject(stub);
  try {
    await runInDurableObject(stub, (actor: MigratingActor) => actor.schemaVersion());
    return undefined;
  } catch (err) {
    return ActorError.from(err) ?? (err as ActorError);
  }
}

/** Raw statements on the actor's storage (works on a half-migrated actor too). */
function exec(stub: Stub, ...statements: [string, ...unknown[]][]): Promise<Record<string, unknown>[][]> {
  return runInDurableObject(stub, (_actor, state) =>
    statements.map(([text, ...params]) => state.storage.sql.exec(text, ...params).toArray()),
  );
}

async function rows(stub: Stub, text: string): Promise<Record<string, unknown>[]> {
  return (await exec(stub, [text]))[0];
}

/** Every row of every user table, and what `PRAGMA foreign_key_check` and the hold tables say. */
async function everything(stub: Stub, tables: string[]) {
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await rows(stub, `SELECT * FROM "${t}" ORDER BY 1, 2`);
  out.fkCheck = await rows(stub, "SELECT * FROM pragma_foreign_key_check");
  out.holds = await rows(
    stub,
    "SELECT name FROM sqlite_master WHERE name LIKE '\\_dosql\\_hold\\_%' ESCAPE '\\'",
  );
  return out;
}

afterEach(() => {
  migrationCase.current = { migrations: {} };
});

describe("self-referencing tables rebuilt by drizzle-kit", () => {
  async function seededTree(): Promise<Stub> {
    const stub = await actorAt(cases.tree, 1);
    // Three levels deep: 1 <- 2 <- 3, and a second root 4 <- 5.
    const tree = [
      [1, null, "root"],
      [2, 1, "child"],
      [3, 2, "grandchild"],
      [4, null, "other"],
      [5, 4, "leaf"],
    ];
    await exec(
      stub,
      ...tree.map(
        (r) => ["INSERT INTO folders (id, parent_id, name) VALUES (?, ?, ?)", ...r] as [string, ...unknown[]],
      ),
      ...tree.map(
        (r) => ["INSERT INTO nodes (id, parent_id, name) VALUES (?, ?, ?)", ...r] as [string, ...unknown[]],
      ),
    );
    return stub;
  }

  it("ON DELETE SET NULL: every parent link survives the rebuild", async () => {
    const stub = await seededTree();
    expect(await deploy(stub, cases.tree)).toBeUndefined();
    expect(await rows(stub, "SELECT id, parent_id FROM folders ORDER BY id")).toEqual([
      { id: 1, parent_id: null },
      { id: 2, parent_id: 1 },
      { id: 3, parent_id: 2 },
      { id: 4, parent_id: null },
      { id: 5, parent_id: 4 },
    ]);
    // The rebuild really happened: `name` is NOT NULL now.
    const name = await rows(stub, "SELECT \"notnull\" FROM pragma_table_info('folders') WHERE name = 'name'");
    expect(name).toEqual([{ notnull: 1 }]);
  });

  it("ON DELETE CASCADE: the rebuild keeps every row (a tree three levels deep)", async () => {
    const stub = await seededTree();
    expect(await deploy(stub, cases.tree)).toBeUndefined();
    const after = await everything(stub, ["nodes"]);
    expect(after.nodes).toEqual([
      { id: 1, parent_id: null, name: "root" },
      { id: 2, parent_id: 1, name: "child" },
      { id: 3, parent_id: 2, name: "grandchild" },
      { id: 4, parent_id: null, name: "other" },
      { id: 5, parent_id: 4, name: "leaf" },
    ]);
    expect(after.fkCheck).toEqual([]);
    expect(after.holds).toEqual([]);
  });
});

const FAMILY = ["projects", "tasks", "tags", "notes", "links", "comments"];

async function seededFamily(bundle: MigrationBundle): Promise<Stub> {
  const stub = await actorAt(bundle, 1);
  const statements: [string, ...unknown[]][] = [];
  for (let p = 1; p <= 3; p++) {
    statements.push([
      "INSERT INTO projects (id, name, budget) VALUES (?, ?, ?)",
      p,
      `p${p}`,
      String(p * 100),
    ]);
    for (let i = 1; i <= 3; i++) {
      const id = p * 10 + i;
      statements.push(["INSERT INTO tasks (id, project_id, title) VALUES (?, ?, ?)", id, p, `t${id}`]);
      statements.push(["INSERT INTO comments (id, task_id, body) VALUES (?, ?, ?)", id, id, `c${id}`]);
      statements.push(["INSERT INTO tags (id, project_id, label) VALUES (?, ?, ?)", id, p, `g${id}`]);
      statements.push(["INSERT INTO notes (id, project_id, body) VALUES (?, ?, ?)", id, p, `n${id}`]);
      statements.push(["INSERT INTO links (id, project_id, url) VALUES (?, ?, ?)", id, p, `https://x/${id}`]);
    }
  }
  statements.push(["INSERT INTO tags (id, project_id, label) VALUES (99, NULL, 'loose')"]);
  await exec(stub, ...statements);
  return stub;
}

describe("a parent with CASCADE, SET NULL, NO ACTION and RESTRICT children and a grandchild", () => {
  it("is rebuilt twice in a row and keeps every row and every link", async () => {
    const stub = await seededFamily(cases.family);
    const before = await everything(stub, FAMILY);
    expect((before.tasks as unknown[]).length).toBe(9);

    expect(await deploy(stub, upTo(cases.family, 2))).toBeUndefined();
    const once = await everything(stub, FAMILY);
    expect({ ...once, projects: undefined }).toEqual({ ...before, projects: undefined });
    // The first rebuild turned budget into an integer column: values converted, rows the same.
    expect(await rows(stub, "SELECT id, budget, typeof(budget) AS t FROM projects ORDER BY id")).toEqual([
      { id: 1, budget: 100, t: "integer" },
      { id: 2, budget: 200, t: "integer" },
      { id: 3, budget: 300, t: "integer" },
    ]);

    expect(await deploy(stub, cases.family)).toBeUndefined();
    expect(await everything(stub, FAMILY)).toEqual(once);
    expect(await rows(stub, "SELECT tag FROM _dosql_migrations ORDER BY idx")).toEqual([
      { tag: "0000_v1" },
      { tag: "0001_v2" },
      { tag: "0002_v3" },
    ]);
  });

  it("without statement breakpoints (drizzle-kit breakpoints: false) the rebuild keeps every link", async () => {
    expect(cases.nobreak.migrations.m0001).not.toContain("statement-breakpoint");
    const stub = await seededFamily(cases.nobreak);
    const before = await everything(stub, FAMILY);
    expect(await deploy(stub, cases.nobreak)).toBeUndefined();
    const after = await everything(stub, FAMILY);
    expect({ ...after, projects: undefined }).toEqual({ ...before, projects: undefined });
  });

  it("a hand-written rebuild in another layout (comments, case, quoting, one chunk) keeps every link", async () => {
    const stub = await seededFamily(cases.family);
    const before = await everything(stub, FAMILY);
    const handWritten = `/* keep a copy */ create table "projects_copy" as select * from [projects];
      -- drop and recreate under the same name, then fill it: the children are put back while
      -- projects is still empty, so their NO ACTION and RESTRICT keys must wait for the commit
      Drop  /* ! */ Table IF EXISTS main."projects";
      CREATE TABLE \`projects\` (\`id\` integer PRIMARY KEY NOT NULL, \`name\` text NOT NULL, \`budget\` text);
      insert into projects select * from projects_copy;
      drop table projects_copy`;
    expect(await deploy(stub, upTo(cases.family, 1, ["0001_hand", handWritten]))).toBeUndefined();
    expect(await everything(stub, FAMILY)).toEqual(before);
  });
});

describe("other shapes of keys", () => {
  it("a rebuilt parent whose child is a WITHOUT ROWID table", async () => {
    // drizzle cannot declare WITHOUT ROWID: its generated CREATE TABLE gets the clause here.
    const v1 = cases.rowidless.migrations.m0000.replace(
      /(CREATE TABLE `memberships`[\s\S]*?\n\))/,
      "$1 WITHOUT ROWID",
    );
    expect(v1).toContain("WITHOUT ROWID");
    const bundle = { ...cases.rowidless, migrations: { ...cases.rowidless.migrations, m0000: v1 } };
    const stub = await actorAt(bundle, 1);
    await exec(
      stub,
      ["INSERT INTO accounts (id, name) VALUES (1, 'a'), (2, 'b')"],
      [
        "INSERT INTO memberships (account_id, user_id, role) VALUES (1, 'u1', 'owner'), (1, 'u2', NULL), (2, 'u1', 'viewer')",
      ],
    );
    const before = await everything(stub, ["accounts", "memberships"]);
    expect(await deploy(stub, bundle)).toBeUndefined();
    expect(await everything(stub, ["memberships"])).toEqual({
      ...before,
      accounts: undefined,
      memberships: before.memberships,
    });
    expect(await rows(stub, "SELECT wr FROM pragma_table_list WHERE name = 'memberships'")).toEqual([
      { wr: 1 },
    ]);
  });

  it("a composite foreign key (SET NULL and CASCADE) onto a composite primary key", async () => {
    const stub = await actorAt(cases.composite, 1);
    await exec(
      stub,
      [
        "INSERT INTO regions (country, code, name) VALUES ('FR', '75', 'Paris'), ('FR', '13', 'Marseille'), ('DE', 'BE', 'Berlin')",
      ],
      [
        "INSERT INTO stores (id, country, code, name) VALUES (1, 'FR', '75', 's1'), (2, 'DE', 'BE', 's2'), (3, NULL, NULL, 's3')",
      ],
      [
        "INSERT INTO visits (country, code, day, count) VALUES ('FR', '75', 1, 10), ('FR', '13', 1, 3), ('DE', 'BE', 2, 7)",
      ],
    );
    const before = await everything(stub, ["stores", "visits"]);
    expect(await deploy(stub, cases.composite)).toBeUndefined();
    expect(await everything(stub, ["stores", "visits"])).toEqual(before);
    expect(await rows(stub, "SELECT country, code, name FROM regions ORDER BY 1, 2")).toEqual([
      { country: "DE", code: "BE", name: "Berlin" },
      { country: "FR", code: "13", name: "Marseille" },
      { country: "FR", code: "75", name: "Paris" },
    ]);
  });

  it("a chain: a parent and its child rebuilt in one migration, with a grandchild", async () => {
    expect(cases.chain.migrations.m0001).toContain("DROP TABLE `authors`");
    expect(cases.chain.migrations.m0001).toContain("DROP TABLE `books`");
    const stub = await actorAt(cases.chain, 1);
    await exec(
      stub,
      ["INSERT INTO authors (id, name) VALUES (1, 'a'), (2, 'b')"],
      ["INSERT INTO books (id, author_id, title) VALUES (10, 1, 'x'), (11, 2, 'y'), (12, NULL, 'z')"],
      [
        "INSERT INTO chapters (id, book_id, heading) VALUES (100, 10, 'h1'), (101, 11, 'h2'), (102, 12, 'h3')",
      ],
    );
    const before = await rows(
      stub,
      "SELECT c.id, c.book_id, b.author_id FROM chapters c JOIN books b ON b.id = c.book_id ORDER BY c.id",
    );
    expect(before).toHaveLength(3);
    expect(await deploy(stub, cases.chain)).toBeUndefined();
    const after = await everything(stub, ["books", "chapters"]);
    expect(
      await rows(
        stub,
        "SELECT c.id, c.book_id, b.author_id FROM chapters c JOIN books b ON b.id = c.book_id ORDER BY c.id",
      ),
    ).toEqual(before);
    expect(after.fkCheck).toEqual([]);
    expect(after.holds).toEqual([]);
  });
});

describe("the guard", () => {
  it("a migration that deletes rows itself is allowed (with what its keys cascade to)", async () => {
    const stub = await seededFamily(cases.family);
    const err = await deploy(
      stub,
      upTo(cases.family, 1, [
        "0001_cleanup",
        "DELETE FROM `tasks` WHERE `project_id` = 1;\n--> statement-breakpoint\nDELETE FROM `tags` WHERE `id` = 99;",
      ]),
    );
    expect(err).toBeUndefined();
    expect((await rows(stub, "SELECT count(*) AS n FROM tasks"))[0].n).toBe(6);
    expect((await rows(stub, "SELECT count(*) AS n FROM comments"))[0].n).toBe(6);
    expect((await rows(stub, "SELECT count(*) AS n FROM tags"))[0].n).toBe(9);
  });

  it("a rebuild that leaves rows behind is refused with MIGRATION_WOULD_LOSE_ROWS", async () => {
    const stub = await seededFamily(cases.family);
    const before = await everything(stub, FAMILY);
    const lossy = [
      "CREATE TABLE `__new_tasks` (`id` integer PRIMARY KEY NOT NULL, `project_id` integer NOT NULL REFERENCES `projects`(`id`) ON DELETE cascade, `title` text NOT NULL)",
      "INSERT INTO `__new_tasks` SELECT * FROM `tasks` WHERE `id` < 20",
      "DROP TABLE `tasks`",
      "ALTER TABLE `__new_tasks` RENAME TO `tasks`",
    ].join(";\n--> statement-breakpoint\n");
    const err = await deploy(stub, upTo(cases.family, 1, ["0001_lossy", lossy]));
    expect(err?.code).toBe("MIGRATION_WOULD_LOSE_ROWS");
    expect(err?.details).toMatchObject({ migration: "0001_lossy", table: "tasks" });
    // Rolled back: everything as it was.
    expect(await everything(stub, FAMILY)).toEqual(before);
  });

  it("a reference changed by something the migration did not write itself: MIGRATION_WOULD_BREAK_REFERENCES names it", async () => {
    const stub = await seededFamily(cases.family);
    const before = await everything(stub, FAMILY);
    // The migration writes `audit` only; a trigger it set up rewrites the links of tags behind its back.
    const sneaky = [
      "CREATE TABLE `audit` (`id` integer PRIMARY KEY, `what` text)",
      "CREATE TRIGGER `unlink` AFTER INSERT ON `audit` BEGIN UPDATE `tags` SET `project_id` = NULL WHERE `id` = 11; END",
      "INSERT INTO `audit` (`what`) VALUES ('x')",
    ].join(";\n");
    const err = await deploy(stub, upTo(cases.family, 1, ["0001_sneaky", sneaky]));
    expect(err?.code).toBe("MIGRATION_WOULD_BREAK_REFERENCES");
    expect(err?.details).toMatchObject({ migration: "0001_sneaky", table: "tags", column: "project_id" });
    expect(err?.message).toContain("project_id");
    expect(await everything(stub, FAMILY)).toEqual(before);
  });

  it("rows a trigger of the migration's own writes adds elsewhere are allowed (an audit log)", async () => {
    const stub = await seededFamily(cases.family);
    const audited = [
      "CREATE TABLE `tag_log` (`id` integer PRIMARY KEY, `tag_id` integer REFERENCES `tags`(`id`), `label` text)",
      "CREATE TRIGGER `log_tags` AFTER UPDATE ON `tags` BEGIN INSERT INTO `tag_log` (`tag_id`, `label`) VALUES (NEW.`id`, NEW.`label`); END",
      "UPDATE `tags` SET `label` = upper(`label`) WHERE `project_id` = 2",
    ].join(";\n");
    expect(await deploy(stub, upTo(cases.family, 1, ["0001_audited", audited]))).toBeUndefined();
    expect((await rows(stub, "SELECT count(*) AS n FROM tag_log"))[0].n).toBe(3);
  });

  it("a reference to a missing row is found by foreign_key_check before commit and named", async () => {
    const stub = await seededFamily(cases.family);
    const err = await deploy(
      stub,
      upTo(cases.family, 1, [
        "0001_orphan",
        "INSERT INTO `notes` (`id`, `project_id`, `body`) VALUES (500, 999, 'orphan')",
      ]),
    );
    expect(err?.code).toBe("MIGRATION_WOULD_BREAK_REFERENCES");
    expect(err?.details).toMatchObject({ migration: "0001_orphan", table: "notes", column: "project_id" });
    expect(await rows(stub, "SELECT count(*) AS n FROM notes WHERE id = 500")).toEqual([{ n: 0 }]);
  });

  it("dropping a referenced table for good loses its children's rows: refused, rolled back", async () => {
    const stub = await seededFamily(cases.family);
    const err = await deploy(stub, upTo(cases.family, 1, ["0001_drop", "drop table projects"]));
    expect(err?.code).toBe("MIGRATION_WOULD_LOSE_ROWS");
    expect(err?.details?.tables).toEqual(
      expect.arrayContaining(["tasks", "tags", "notes", "links", "comments"]),
    );
    expect((await rows(stub, "SELECT count(*) AS n FROM projects"))[0].n).toBe(3);
  });
});
