import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantDB } from "../actors/tenant-db/index";
import { actorStub } from "../src/index";
import { ADMIN_TOKEN, SECURED, userToken } from "./auth-helpers";
import { fleetTenant, tenantBundles } from "./fixtures/fleet-tenant";
import { upTo } from "./fixtures/migration-actors";
import { caller, codeOf, freshTenant, json } from "./tenant-helpers";

const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });
const DAY = 86_400_000;

const tenantStub = (tenant: string) => env.TENANT_DB.getByName(tenant) as DurableObjectStub<TenantDB>;

/** Tasks of a tenant as the hot table holds them (done_at included). */
async function hotRows(tenant: string) {
  return runInDurableObject(tenantStub(tenant), (a: TenantDB) =>
    a.database.query<{ id: number; title: string; done_at: number | null }>(
      "SELECT id, title, done_at FROM tasks ORDER BY id",
    ),
  );
}

/** Say a task was done `days` ago (the archive selects by done_at). */
async function doneDaysAgo(tenant: string, ids: number[], days: number) {
  await runInDurableObject(tenantStub(tenant), (a: TenantDB) => {
    for (const id of ids)
      a.database.query("UPDATE tasks SET done_at = ? WHERE id = ?", [Date.now() - days * DAY, id]);
  });
}

/** Make the tenant's archive schedule due now and run its alarm (what 03:30 UTC does). */
async function runScheduledArchive(tenant: string) {
  const stub = tenantStub(tenant);
  await runInDurableObject(stub, (a: TenantDB) => {
    a.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = ? AND status = 'scheduled'", [
      Date.now() - 1,
      "tiering:archive:tasks",
    ]);
  });
  await runDurableObjectAlarm(stub);
}

async function r2Keys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.ARCHIVE.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

/** A tenant with one user and project, and tasks by title: `done` ones are marked done. */
async function seed(tenant: string, titles: { title: string; done?: boolean }[]) {
  const base = `/tenants/${tenant}`;
  const user = await json(admin("POST", `${base}/users`, { email: "a@x.io", name: "Ann" }));
  const project = await json(admin("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
  const ids: Record<string, number> = {};
  for (const { title, done } of titles) {
    const task = await json(
      admin("POST", `${base}/tasks`, { project_id: project.id, title, assignee_id: user.id }),
    );
    if (done) await admin("PATCH", `${base}/tasks`, { id: task.id, status: "done" });
    ids[title] = task.id;
  }
  return { base, user, project, ids };
}

const titlesOf = (tasks: { title: string }[]) => tasks.map((t) => t.title).sort();

describe("tenant archive in R2 under <tenant>/archive/, with retention", () => {
  it("the daily run moves tasks done over 90 days ago to <tenant>/archive/tasks/, out of the hot table; they list back; retention deletes only this tenant's old files", async () => {
    const tenant = freshTenant("ar");
    const { base, ids } = await seed(tenant, [
      { title: "old-1", done: true },
      { title: "old-2", done: true },
      { title: "ancient", done: true },
      { title: "recent", done: true },
      { title: "open" },
    ]);
    await doneDaysAgo(tenant, [ids["old-1"], ids["old-2"]], 120);
    await doneDaysAgo(tenant, [ids.ancient], 800);
    const before = (await json(admin("GET", `${base}/tasks`))).tasks;
    expect(titlesOf(before)).toEqual(["ancient", "old-1", "old-2", "open", "recent"]);

    // Another tenant, whose name starts with this one's, archives too: its prefix must stay its own.
    const other = `${tenant}x`;
    const theirs = await seed(other, [{ title: "theirs", done: true }]);
    await doneDaysAgo(other, [theirs.ids.theirs], 120);
    await runScheduledArchive(other);
    const otherKeys = await r2Keys(`${other}/`);
    expect(otherKeys).toHaveLength(1);

    await runScheduledArchive(tenant);

    // In R2: one Parquet file per month done, under the tenant's own prefix only.
    const keys = await r2Keys(`${tenant}/`);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys)
      expect(key).toMatch(new RegExp(`^${tenant}/archive/tasks/\\d{4}-\\d{2}/\\d{19}-[0-9a-f]+\\.parquet$`));
    // Gone from the hot table: the 120-day-old ones archived, the 800-day-old one archived and
    // then deleted by retention (730 days) in the same run.
    expect((await hotRows(tenant)).map((r) => r.title)).toEqual(["recent", "open"]);
    expect(titlesOf((await json(admin("GET", `${base}/tasks`))).tasks)).toEqual(["open", "recent"]);
    const files = (await json(admin("GET", `${base}/archive`))).files;
    expect(files.map((f: { key: string }) => f.key).sort()).toEqual(keys);
    expect(files.reduce((n: number, f: { rows: number }) => n + f.rows, 0)).toBe(2);

    // Read back through tiering: the same rows as before, in the list's order, filters applied.
    const all = (await json(admin("GET", `${base}/tasks?include_archived=true`))).tasks;
    const expected = before.filter((t: { title: string }) => t.title !== "ancient");
    expect(all).toEqual(expected);
    const doneOnly = (await json(admin("GET", `${base}/tasks?include_archived=true&status=done`))).tasks;
    expect(titlesOf(doneOnly)).toEqual(["old-1", "old-2", "recent"]);
    // A user of the tenant reads them too; the archive's admin routes are the admin's.
    const own = caller({ vars: SECURED, token: await userToken("u", { claims: { tenant } }) });
    expect(titlesOf((await json(own("GET", `${base}/tasks?include_archived=true`))).tasks)).toEqual(
      titlesOf(expected),
    );
    expect((await own("POST", `${base}/archive`)).status).toBe(403);
    expect((await own("GET", `${base}/archive`)).status).toBe(403);

    // Retention now at 100 days: the 120-day-old file goes, from R2 and from the list.
    const expired = await json(admin("POST", `${base}/archive`, { keep_for: "100d" }));
    expect(expired).toMatchObject({ done: true, rows: 0 });
    expect(expired.expired.sort()).toEqual(keys);
    expect(await r2Keys(`${tenant}/`)).toEqual([]);
    expect((await json(admin("GET", `${base}/archive`))).files).toEqual([]);
    expect(titlesOf((await json(admin("GET", `${base}/tasks?include_archived=true`))).tasks)).toEqual([
      "open",
      "recent",
    ]);

    // The other tenant's archive is untouched, and still reads back.
    expect(await r2Keys(`${other}/`)).toEqual(otherKeys);
    const otherAll = (await json(admin("GET", `/tenants/${other}/tasks?include_archived=true`))).tasks;
    expect(titlesOf(otherAll)).toEqual(["theirs"]);
  });

  // Archiving moves tasks to R2; they are still the project's tasks (listTasks include_archived).
  it("task_count counts a project's archived tasks too: the daily archive keeps it, deletes and retention lower it", async () => {
    const tenant = freshTenant("count");
    const { base, user, ids } = await seed(tenant, [
      { title: "old-1", done: true },
      { title: "old-2", done: true },
      { title: "open" },
    ]);
    const other = await json(admin("POST", `${base}/projects`, { name: "Q", owner_id: user.id }));
    const q = await json(admin("POST", `${base}/tasks`, { project_id: other.id, title: "q-old" }));
    await admin("PATCH", `${base}/tasks`, { id: q.id, status: "done" });
    await doneDaysAgo(tenant, [ids["old-1"], ids["old-2"], q.id], 120);
    const counts = async () => {
      const { projects } = await json(admin("GET", `${base}/projects`));
      return Object.fromEntries(
        projects.map((p: { name: string; task_count: number }) => [p.name, p.task_count]),
      );
    };
    expect(await counts()).toEqual({ P: 3, Q: 1 });

    await runScheduledArchive(tenant);
    expect((await hotRows(tenant)).map((r) => r.title)).toEqual(["open"]);
    expect(await counts()).toEqual({ P: 3, Q: 1 });
    await evictDurableObject(tenantStub(tenant));
    expect(await counts()).toEqual({ P: 3, Q: 1 });

    // A hot task deleted leaves the count; the archive's retention deletes archived ones for good.
    expect((await admin("DELETE", `${base}/tasks/${ids.open}`)).status).toBe(200);
    expect(await counts()).toEqual({ P: 2, Q: 1 });
    const expired = await json(admin("POST", `${base}/archive`, { keep_for: "100d" }));
    expect(expired.expired.length).toBeGreaterThan(0);
    expect(await counts()).toEqual({ P: 0, Q: 0 });
  });

  it("an archive run now takes older_than; bad ages and flags are typed 400s that archive nothing", async () => {
    const tenant = freshTenant("ar-now");
    const { base, ids } = await seed(tenant, [{ title: "a", done: true }, { title: "b" }]);
    await doneDaysAgo(tenant, [ids.a], 2);
    for (const body of [{ older_than: "soon" }, { older_than: 90 }, { keep_for: "" }, { older_than: "0d" }])
      expect(await codeOf(admin("POST", `${base}/archive`, body)), JSON.stringify(body)).toBe(
        "VALIDATION_FAILED",
      );
    expect(await codeOf(admin("GET", `${base}/tasks?include_archived=yes`))).toBe("VALIDATION_FAILED");
    expect((await hotRows(tenant)).map((r) => r.title)).toEqual(["a", "b"]);
    expect(await r2Keys(`${tenant}/`)).toEqual([]);

    // Nothing is 90 days old: the default run archives nothing; one day does.
    expect(await json(admin("POST", `${base}/archive`))).toMatchObject({ done: true, rows: 0 });
    const res = await admin("POST", `${base}/archive`, { older_than: "1d" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ done: true, rows: 1, files: 1 });
    expect((await hotRows(tenant)).map((r) => r.title)).toEqual(["b"]);
    expect(await r2Keys(`${tenant}/archive/tasks/`)).toHaveLength(1);
  });

  it("done_at follows the status: set when a task becomes done, kept while done, cleared when reopened", async () => {
    const tenant = freshTenant("ar-done");
    const { base, project } = await seed(tenant, []);
    const created = await json(
      admin("POST", `${base}/tasks`, { project_id: project.id, title: "t", status: "done" }),
    );
    const doneAt = async () => (await hotRows(tenant)).find((r) => r.id === created.id)!.done_at;
    const first = await doneAt();
    expect(first).toBe(Date.parse(created.created_at));
    await admin("PATCH", `${base}/tasks`, { id: created.id, priority: 3, status: "done" });
    expect(await doneAt()).toBe(first);
    await admin("PATCH", `${base}/tasks`, { id: created.id, status: "review" });
    expect(await doneAt()).toBeNull();
    await admin("PATCH", `${base}/tasks`, { id: created.id, priority: 5 });
    expect(await doneAt()).toBeNull();
    const again = await json(admin("PATCH", `${base}/tasks`, { id: created.id, status: "done" }));
    expect(await doneAt()).toBe(Date.parse(again.updated_at));
  });

  it("the done_at migration keeps every row written before it, foreign keys included, and backfills done tasks", async () => {
    const name = freshTenant("ar-mig");
    fleetTenant.registry = "tenants-archive-migration";
    fleetTenant.migrations = upTo(tenantBundles.shipped, 1);
    const stub = env.FLEET_TENANT.getByName(name) as unknown as DurableObjectStub;
    try {
      // Data as the previous version wrote it (its schema: no done_at).
      const written = await runInDurableObject(stub, (_a, state) => {
        const sql = state.storage.sql;
        expect(
          sql.exec("SELECT name FROM pragma_table_info('tasks') WHERE name = 'done_at'").toArray(),
        ).toEqual([]);
        const at = (d: number) => new Date(Date.UTC(2026, 0, d, 9, 30, 15, 250)).toISOString();
        sql.exec(
          "INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('a@x.io', 'A', 'owner', ?, ?), ('b@x.io', 'B', 'member', ?, ?)",
          at(1),
          at(1),
          at(2),
          at(2),
        );
        sql.exec(
          "INSERT INTO projects (name, owner_id, status, created_at, updated_at) VALUES ('P', 1, 'active', ?, ?), ('Q', 2, 'archived', ?, ?)",
          at(3),
          at(3),
          at(4),
          at(4),
        );
        const statuses = ["todo", "in_progress", "review", "done"];
        for (let i = 0; i < 12; i++)
          sql.exec(
            "INSERT INTO tasks (project_id, title, assignee_id, status, priority, due_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (i % 2) + 1,
            `task ${i}`,
            i % 3 === 0 ? null : (i % 2) + 1,
            statuses[i % 4],
            i,
            i % 5 === 0 ? "2026-03-01" : null,
            at(5 + i),
            at(6 + i),
          );
        const dump = (table: string) => sql.exec(`SELECT * FROM ${table} ORDER BY id`).toArray();
        return { users: dump("users"), projects: dump("projects"), tasks: dump("tasks") };
      });

      // The new version is deployed: the next wake applies 0001 (column) and 0002 (backfill).
      fleetTenant.migrations = tenantBundles.shipped;
      await evictDurableObject(stub);
      const listed = await actorStub(env.FLEET_TENANT, name).listTasks();
      expect(listed.tasks).toHaveLength(12);
      const after = await runInDurableObject(stub, (_a, state) => {
        const sql = state.storage.sql;
        const dump = (table: string) => sql.exec(`SELECT * FROM ${table} ORDER BY id`).toArray();
        return {
          users: dump("users"),
          projects: dump("projects"),
          tasks: dump("tasks"),
          broken: sql.exec("SELECT * FROM pragma_foreign_key_check").toArray(),
          fks: sql
            .exec('SELECT "table", "from", on_delete FROM pragma_foreign_key_list(\'tasks\') ORDER BY "from"')
            .toArray(),
          ledger: sql.exec("SELECT tag FROM _dosql_migrations ORDER BY idx").toArray(),
        };
      });
      expect(after.users).toEqual(written.users);
      expect(after.projects).toEqual(written.projects);
      expect(after.tasks.map(({ done_at: _, ...rest }) => rest)).toEqual(written.tasks);
      for (const t of after.tasks)
        expect(t.done_at, String(t.title)).toBe(
          t.status === "done" ? Date.parse(String(t.updated_at)) : null,
        );
      expect(after.broken).toEqual([]);
      expect(after.fks).toEqual([
        { table: "users", from: "assignee_id", on_delete: "NO ACTION" },
        { table: "projects", from: "project_id", on_delete: "CASCADE" },
      ]);
      expect(after.ledger.map((r) => r.tag)).toEqual(
        tenantBundles.shipped.journal!.entries.map((e) => e.tag),
      );
    } finally {
      fleetTenant.migrations = tenantBundles.shipped;
    }
  });
});

describe("archive retention when R2 refuses a delete", () => {
  it("the files leave the manifest at once and their objects are deleted by the next resume", async () => {
    const tenant = freshTenant("ar-fail");
    const { base, ids } = await seed(tenant, [{ title: "a", done: true }]);
    await doneDaysAgo(tenant, [ids.a], 120);
    await admin("POST", `${base}/archive`);
    const keys = await r2Keys(`${tenant}/`);
    expect(keys).toHaveLength(1);
    const stub = tenantStub(tenant);
    const failed = await runInDurableObject(stub, async (a: TenantDB) => {
      a.tiering.store().hooks = {
        beforeDelete() {
          throw new Error("R2 refused the delete");
        },
      };
      try {
        await a.archiveTasks({ keep_for: "100d" });
        return "no error";
      } catch (err) {
        return String(err);
      } finally {
        a.tiering.store().hooks = undefined;
      }
    });
    expect(failed).toContain("R2 refused the delete");
    // Out of the manifest (no cold query reads it), still in R2, remembered as a job.
    expect((await json(admin("GET", `${base}/archive`))).files).toEqual([]);
    expect(await r2Keys(`${tenant}/`)).toEqual(keys);
    const jobs = await runInDurableObject(stub, (a: TenantDB) => a.tiering.jobs());
    expect(jobs).toEqual([{ id: "expire:tasks", kind: "expire" }]);
    expect(await runInDurableObject(stub, (a: TenantDB) => a.tiering.resume())).toEqual({ done: true });
    expect(await r2Keys(`${tenant}/`)).toEqual([]);
  });
});
