// Audit of TenantDB (test first: each test here failed on the code before its fix).
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { TenantDB } from "../actors/tenant-db/index";
import type { FleetRegistry } from "../src/fleet/index";
import { ActorError, actorStub } from "../src/index";
import { ADMIN_TOKEN, SECURED } from "./auth-helpers";
import { failingBundle, fleetTenant, tenantBundles, tenantTags } from "./fixtures/fleet-tenant";
import { caller, freshTenant, json } from "./tenant-helpers";

const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });
const DAY = 86_400_000;
const tenantStub = (tenant: string) => env.TENANT_DB.getByName(tenant) as DurableObjectStub<TenantDB>;
const registry = (kind: string) => env.FLEET.getByName(kind) as DurableObjectStub<FleetRegistry>;

async function codeOfCall(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}

/** A tenant with one user and one project. */
async function seed(tenant: string) {
  const base = `/tenants/${tenant}`;
  const user = await json(admin("POST", `${base}/users`, { email: "a@x.io", name: "Ann" }));
  const project = await json(admin("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
  return { base, user, project };
}

describe("listTasks orders by when a task is due, not by how its due date is written", () => {
  it("date-times with fractions or offsets sort by their instant, hot and archived alike", async () => {
    const tenant = freshTenant("audit-due");
    const { base, project } = await seed(tenant);
    // In due order (UTC): 00:00 (a date), 09:00, 09:00:00.5, 1 Dec 22:00 (+05:30 of 2 Dec 03:30),
    // 2 Dec 01:00, 2 Dec 04:00 (23:00 at -05:00 on 1 Dec). As text they sort otherwise.
    const due = [
      ["midnight", "2026-12-01"],
      ["nine", "2026-12-01T09:00:00Z"],
      ["nine and a half second", "2026-12-01T09:00:00.5Z"],
      ["three thirty in Delhi", "2026-12-02T03:30:00+05:30"],
      ["one", "2026-12-02T01:00:00Z"],
      ["eleven in New York", "2026-12-01T23:00:00-05:00"],
    ];
    const inDueOrder = [
      "midnight",
      "nine",
      "nine and a half second",
      "three thirty in Delhi",
      "one",
      "eleven in New York",
    ];
    for (const [title, due_date] of [...due].reverse())
      await admin("POST", `${base}/tasks`, { project_id: project.id, title, due_date, status: "done" });
    await admin("POST", `${base}/tasks`, { project_id: project.id, title: "undated", status: "done" });
    const titles = async (query = "") =>
      (await json(admin("GET", `${base}/tasks${query}`))).tasks.map((t: { title: string }) => t.title);
    expect(await titles()).toEqual([...inDueOrder, "undated"]);

    // Half of them archived: the union answers the same order.
    await runInDurableObject(tenantStub(tenant), (a: TenantDB) => {
      a.database.query("UPDATE tasks SET done_at = ? WHERE id % 2 = 0", [Date.now() - 100 * DAY]);
    });
    expect((await json(admin("POST", `${base}/archive`))).rows).toBe(3);
    expect(await titles("?include_archived=true")).toEqual([...inDueOrder, "undated"]);
  });
});

describe("a restore whose backup the deployed migrations cannot bring up to date", () => {
  it("changes nothing: the data, the actor's version and the fleet registry stay as they were", async () => {
    const kind = "tenants-audit-restore";
    fleetTenant.registry = kind;
    fleetTenant.migrations = tenantBundles.withPaused;
    const name = freshTenant("audit-restore");
    const stub = actorStub(env.FLEET_TENANT, name);
    try {
      const owner = await stub.createUser({ email: "o@x.io", name: "O" });
      const kept = await stub.createProject({ name: "kept", owner_id: owner.id });
      const second = await stub.createProject({ name: "second", owner_id: owner.id });
      await stub.createTask({ project_id: kept.id, title: "written before the backup" });
      // The backup holds two projects of one owner, at the version before one_project_per_owner.
      const backup = await stub.backup();
      await stub.deleteProject({ id: second.id });
      await stub.createTask({ project_id: kept.id, title: "written after the backup" });

      // one_project_per_owner is deployed: the next wake applies it (one owner, one project now).
      fleetTenant.migrations = failingBundle;
      await evictDurableObject(env.FLEET_TENANT.getByName(name));
      const before = await stub.listTasks();
      expect(before.tasks.map((t) => t.title).sort()).toEqual([
        "written after the backup",
        "written before the backup",
      ]);
      await vi.waitFor(
        async () =>
          expect((await registry(kind).list()).actors).toEqual([
            expect.objectContaining({ name, version: tenantTags.failing, error: null }),
          ]),
        { timeout: 10_000, interval: 50 },
      );

      // The backup's two projects of one owner cannot take one_project_per_owner: the restore fails…
      expect(await codeOfCall(stub.restoreBackup({ key: backup.key }))).toBe("MIGRATION_FAILED");
      // …and, as it says, restored nothing: the tenant serves what it had, at its version.
      expect(await stub.listTasks()).toEqual(before);
      expect((await stub.listProjects()).projects.map((p) => p.name)).toEqual(["kept"]);
      const version = await runInDurableObject(
        env.FLEET_TENANT.getByName(name) as unknown as DurableObjectStub,
        (_a, state) => ({
          ledger: state.storage.sql.exec("SELECT tag FROM _dosql_migrations ORDER BY idx DESC LIMIT 1").one()
            .tag,
          index: state.storage.sql
            .exec("SELECT name FROM sqlite_master WHERE name = 'one_project_per_owner'")
            .toArray().length,
        }),
      );
      expect(version).toEqual({ ledger: tenantTags.failing, index: 1 });
      // A new wake agrees with the registry: same version, no error.
      await evictDurableObject(env.FLEET_TENANT.getByName(name));
      expect(await stub.listTasks()).toEqual(before);
      const step = await registry(kind).migrateAll({});
      expect(step.errors).toEqual([]);
      expect((await registry(kind).list()).actors).toEqual([
        expect.objectContaining({ name, version: tenantTags.failing, error: null }),
      ]);
    } finally {
      fleetTenant.migrations = tenantBundles.shipped;
    }
  });
});

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

describe("archived files a restore leaves out of the manifest", () => {
  it("go with retention like every other archived file (a task deleted after the restore stayed in R2 for good)", async () => {
    const tenant = freshTenant("audit-orphan");
    const { base, project } = await seed(tenant);
    const ids: number[] = [];
    for (const title of ["kept", "deleted later"])
      ids.push(
        (await json(admin("POST", `${base}/tasks`, { project_id: project.id, title, status: "done" }))).id,
      );
    await runInDurableObject(tenantStub(tenant), (a: TenantDB) => {
      a.database.query("UPDATE tasks SET done_at = ?", [Date.now() - 120 * DAY]);
    });
    // Backed up while both tasks are hot; then archived to one file.
    const backup = await json(admin("POST", `${base}/backups`));
    const archived = await json(admin("POST", `${base}/archive`));
    expect(archived).toMatchObject({ rows: 2, files: 1 });
    const [file] = archived.keys;

    // Restored: both tasks are hot again and the manifest is the backup's (no file). One of them
    // is deleted, the other archived again (into a file of its own).
    expect((await admin("POST", `${base}/restore`, { key: backup.key })).status).toBe(200);
    expect((await json(admin("GET", `${base}/archive`))).files).toEqual([]);
    expect((await admin("DELETE", `${base}/tasks/${ids[1]}`)).status).toBe(200);
    const again = await json(admin("POST", `${base}/archive`));
    expect(again).toMatchObject({ rows: 1, files: 1 });
    expect(await r2Keys(`${tenant}/archive/`)).toEqual([file, ...again.keys].sort());

    // Retention past both: every archived file of the tenant goes, the one from before the
    // restore (which still holds the deleted task) included.
    const expired = await json(admin("POST", `${base}/archive`, { keep_for: "100d" }));
    expect(expired.expired.sort()).toEqual([file, ...again.keys].sort());
    expect(await r2Keys(`${tenant}/archive/`)).toEqual([]);
    expect((await json(admin("GET", `${base}/tasks?include_archived=true`))).tasks).toEqual([]);
  });
});

/**
 * A tenant with two done tasks past the archive age: a backup with both hot, the archive (its
 * file keys), a backup with both archived, and the tasks as they list then.
 */
async function archivedBetweenBackups(prefix: string) {
  const tenant = freshTenant(prefix);
  const { base, project } = await seed(tenant);
  for (const title of ["a", "b"])
    await admin("POST", `${base}/tasks`, { project_id: project.id, title, status: "done" });
  await runInDurableObject(tenantStub(tenant), (a: TenantDB) => {
    a.database.query("UPDATE tasks SET done_at = ?", [Date.now() - 120 * DAY]);
  });
  const hot = await json(admin("POST", `${base}/backups`));
  const { keys } = await json(admin("POST", `${base}/archive`));
  const cold = await json(admin("POST", `${base}/backups`));
  const all = (await json(admin("GET", `${base}/tasks?include_archived=true`))).tasks;
  return { tenant, base, hot, keys, cold, all };
}

describe("a file a restore left out and a later restore brings back", () => {
  it("is the manifest's again: read back, and expired once", async () => {
    const { tenant, base, hot, keys, cold, all } = await archivedBetweenBackups("audit-back");
    expect(all).toHaveLength(2);

    await admin("POST", `${base}/restore`, { key: hot.key });
    // Retention that does not reach the file leaves it in R2.
    expect((await json(admin("POST", `${base}/archive`, { older_than: "1000d" }))).expired).toEqual([]);
    await admin("POST", `${base}/restore`, { key: cold.key });
    expect((await json(admin("GET", `${base}/tasks?include_archived=true`))).tasks).toEqual(all);
    const expired = await json(admin("POST", `${base}/archive`, { keep_for: "100d" }));
    expect(expired.expired).toEqual(keys);
    expect(await r2Keys(`${tenant}/archive/`)).toEqual([]);
  });
});

describe("an archive attempt that is not committed", () => {
  it("never deletes a file another backup's manifest names (restoring that backup lost its archived tasks)", async () => {
    const { tenant, base, hot, keys, cold, all } = await archivedBetweenBackups("audit-pending");

    // Back to the backup with both tasks hot; archiving them again writes the same file (same
    // rows, same bytes, same key), and a task changes while that put is in flight: the attempt is
    // not committed, and the next one archives the changed rows under a key of their own.
    await admin("POST", `${base}/restore`, { key: hot.key });
    const again = await runInDurableObject(tenantStub(tenant), async (a: TenantDB) => {
      let puts = 0;
      a.tiering.store().hooks = {
        afterPut() {
          if (puts++ === 0) a.database.query("UPDATE tasks SET priority = 9 WHERE title = 'a'");
        },
      };
      try {
        return await a.archiveTasks({});
      } finally {
        a.tiering.store().hooks = undefined;
      }
    });
    expect(again).toMatchObject({ done: true, rows: 2, files: 1 });
    expect(again.keys).not.toEqual(keys);

    // The newer backup names the first file: restored, it reads its tasks back.
    await admin("POST", `${base}/restore`, { key: cold.key });
    const res = await admin("GET", `${base}/tasks?include_archived=true`);
    expect(res.status).toBe(200);
    expect((await res.json<{ tasks: unknown[] }>()).tasks).toEqual(all);
  });
});
