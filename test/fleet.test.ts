import {
  env,
  evictDurableObject,
  listDurableObjectIds,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { FleetRegistry } from "../src/fleet/index";
import { ActorError, actorStub } from "../src/index";
import { ADMIN_TOKEN, SECURED, userToken } from "./auth-helpers";
import {
  failingBundle,
  fleetTenant,
  RenamedTenant,
  tenantBundles,
  tenantTags,
} from "./fixtures/fleet-tenant";
import { caller, codeOf, freshTenant, json } from "./tenant-helpers";

const registry = (kind: string) => env.FLEET.getByName(kind) as DurableObjectStub<FleetRegistry>;

async function codeOfCall(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}

/** `count` FleetTenants in registry `kind`, tenant i with i % 4 + 1 tasks; their names and task counts. */
async function fleetOf(kind: string, count: number) {
  fleetTenant.registry = kind;
  fleetTenant.migrations = tenantBundles.shipped;
  const tenants: { name: string; tasks: number }[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${kind}-${String(i).padStart(3, "0")}`;
      const stub = actorStub(env.FLEET_TENANT, name);
      const user = await stub.createUser({ email: `u@${name}.io`, name: "U" });
      const project = await stub.createProject({ name: "P", owner_id: user.id });
      const tasks = (i % 4) + 1;
      for (let t = 0; t < tasks; t++) await stub.createTask({ project_id: project.id, title: `t${t}` });
      tenants.push({ name, tasks });
    }),
  );
  // Every member reports itself in the background after its first wake.
  await vi.waitFor(async () => expect((await registry(kind).list({ limit: 1 })).total).toBe(count), {
    timeout: 20_000,
    interval: 50,
  });
  return tenants.sort((a, b) => a.name.localeCompare(b.name));
}

describe("fleet registry", () => {
  it("members report on first wake; list pages by cursor", async () => {
    const kind = "fleet-list";
    const tenants = await fleetOf(kind, 7);
    const first = await registry(kind).list({ limit: 3 });
    expect(first.actors.map((a) => a.name)).toEqual(tenants.slice(0, 3).map((t) => t.name));
    expect(first.actors[0]).toMatchObject({
      className: "FleetTenant",
      version: tenantTags.shipped,
      error: null,
    });
    expect(first.actors[0].bytes).toBeGreaterThan(0);
    const second = await registry(kind).list({ cursor: first.cursor, limit: 3 });
    const third = await registry(kind).list({ cursor: second.cursor, limit: 3 });
    expect([...first.actors, ...second.actors, ...third.actors].map((a) => a.name)).toEqual(
      tenants.map((t) => t.name),
    );
    expect(third.cursor).toBeNull();
    expect(await codeOfCall(registry(kind).list({ limit: 0 }))).toBe("VALIDATION_FAILED");
    expect(await codeOfCall(registry(kind).list({ limit: 501 }))).toBe("VALIDATION_FAILED");
  });

  it("a class renamed by a minifier is reached by its declared export name", async () => {
    // What wrangler's `keep_names: false` does to every class; the fixture declares `exportName`.
    expect(RenamedTenant.name).toBe("a");
    const kind = "fleet-renamed";
    fleetTenant.registry = kind;
    fleetTenant.migrations = tenantBundles.shipped;
    const stub = actorStub(env.RENAMED_TENANT, "renamed-0");
    const user = await stub.createUser({ email: "u@renamed.io", name: "U" });
    const project = await stub.createProject({ name: "P", owner_id: user.id });
    await stub.createTask({ project_id: project.id, title: "t" });
    await vi.waitFor(async () => expect((await registry(kind).list()).total).toBe(1), {
      timeout: 20_000,
      interval: 50,
    });
    expect((await registry(kind).list()).actors[0]).toMatchObject({
      name: "renamed-0",
      className: "RenamedTenant",
    });
    // The registry wakes and queries the member through ctx.exports["RenamedTenant"].
    await evictDurableObject(env.RENAMED_TENANT.getByName("renamed-0"));
    expect(await registry(kind).migrateAll()).toMatchObject({ processed: 1, errors: [], done: true });
    const counts = await registry(kind).queryAll({ sql: "SELECT count(*) AS n FROM tasks" });
    expect(counts.errors).toEqual([]);
    expect(counts.results).toEqual([expect.objectContaining({ actor: "renamed-0", rows: [{ n: 1 }] })]);
  });

  it("a registry with no members lists nothing and writes nothing", async () => {
    const kind = "fleet-nobody";
    expect(await registry(kind).list()).toEqual({ actors: [], cursor: null, total: 0 });
    expect(await registry(kind).migrateAll()).toMatchObject({ processed: 0, done: true });
    expect(await registry(kind).migrateStatus()).toBeNull();
    expect(await registry(kind).queryAll({ sql: "SELECT 1" })).toMatchObject({ results: [], done: true });
    const tables = await runInDurableObject(registry(kind), (_r: unknown, state: DurableObjectState) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name IN ('actors', 'jobs')").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("50 tenants: migrateAll brings every one to the new version in resumable batches and keeps every task", async () => {
    const kind = "fleet-migrate";
    const tenants = await fleetOf(kind, 50);
    // A new migration (drizzle-kit rebuilds `projects`: DROP TABLE would cascade to tasks) is deployed.
    fleetTenant.migrations = tenantBundles.withPaused;
    for (const t of tenants) await evictDurableObject(env.FLEET_TENANT.getByName(t.name));
    let cursor: string | null = null;
    let processed = 0;
    let migrated = 0;
    const steps: { processed: number; done: boolean }[] = [];
    do {
      const step: Awaited<ReturnType<FleetRegistry["migrateAll"]>> = await registry(kind).migrateAll({
        cursor,
        limit: 20,
        concurrency: 8,
      });
      expect(step.errors).toEqual([]);
      processed += step.processed;
      migrated += step.migrated;
      steps.push({ processed: step.processed, done: step.done });
      cursor = step.cursor;
      if (step.done) expect(step.versions).toEqual({ [tenantTags.paused]: 50 });
    } while (cursor !== null);
    expect(steps).toEqual([
      { processed: 20, done: false },
      { processed: 20, done: false },
      { processed: 10, done: true },
    ]);
    expect([processed, migrated]).toEqual([50, 50]);
    // Every task of every tenant is still there (counted by queryAll, tagged by tenant).
    const counts = await registry(kind).queryAll({ sql: "SELECT count(*) AS n FROM tasks", limit: 500 });
    expect(counts.errors).toEqual([]);
    expect(counts.results.map((r) => [r.actor, r.rows[0].n])).toEqual(tenants.map((t) => [t.name, t.tasks]));
    // The new CHECK is in force: 'paused' is a status now (the shipped schema refuses it).
    const stub = env.FLEET_TENANT.getByName(tenants[0].name) as unknown as DurableObjectStub;
    await runInDurableObject(stub, (_actor, state) => {
      state.storage.sql.exec("UPDATE projects SET status = 'paused'");
    });
    const paused = await registry(kind).queryAll({
      sql: "SELECT count(*) AS n FROM projects WHERE status = 'paused'",
      limit: 1,
    });
    expect(paused.results[0].rows).toEqual([{ n: 1 }]);
  });

  it("a background migration continues from alarm runs, reporting progress and per-actor errors", async () => {
    const kind = "fleet-background";
    const tenants = await fleetOf(kind, 12);
    // One member's next migration will fail: its owner gets a second project.
    const broken = actorStub(env.FLEET_TENANT, tenants[3].name);
    await broken.createProject({ name: "second", owner_id: 1 });
    fleetTenant.migrations = failingBundle;
    for (const t of tenants) await evictDurableObject(env.FLEET_TENANT.getByName(t.name));
    const started = await registry(kind).migrateAll({ background: true, limit: 5, concurrency: 3 });
    expect(started).toMatchObject({ running: true, processed: 0 });
    let runs = 0;
    for (; runs < 10; runs++) {
      await runDurableObjectAlarm(registry(kind));
      if (!(await registry(kind).migrateStatus())?.running) break;
    }
    const job = (await registry(kind).migrateStatus())!;
    expect(job).toMatchObject({ running: false, done: true, processed: 12, migrated: 11, total: 12 });
    expect(job.versions).toEqual({ [tenantTags.failing]: 11, [tenantTags.shipped]: 1 });
    expect(job.errors).toEqual([
      expect.objectContaining({ actor: tenants[3].name, code: "MIGRATION_FAILED" }),
    ]);
    const listed = await registry(kind).list({ cursor: tenants[2].name, limit: 1 });
    expect(listed.actors[0].error).toMatchObject({ code: "MIGRATION_FAILED" });
    expect(runs).toBe(2); // 5 + 5 + 2
  });

  it("queryAll refuses writes (checked by SQLite, nothing written) and pages with a cursor", async () => {
    const kind = "fleet-query";
    const tenants = await fleetOf(kind, 6);
    const writes = [
      "DELETE FROM tasks",
      "UPDATE tasks SET status = 'done' WHERE 0",
      "INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('x@y.io', 'X', 'member', '', '')",
      "DROP TABLE tasks",
      "CREATE TABLE evil (x)",
      "WITH d AS (SELECT 1) DELETE FROM tasks",
    ];
    for (const sql of writes)
      expect([sql, await codeOfCall(registry(kind).queryAll({ sql }))]).toEqual([sql, "READ_ONLY"]);
    expect(await codeOfCall(registry(kind).queryAll({ sql: "SELECT 1; DELETE FROM tasks" }))).toBe(
      "VALIDATION_FAILED",
    );
    const counts = await registry(kind).queryAll({ sql: "SELECT count(*) AS n FROM tasks" });
    expect(counts.results.map((r) => r.rows[0].n)).toEqual(tenants.map((t) => t.tasks));
    // Parameters, a row limit, and pages.
    const page1 = await registry(kind).queryAll({
      sql: "SELECT title FROM tasks WHERE id >= ? ORDER BY id",
      params: [1],
      limit: 4,
      rows: 2,
    });
    expect(page1.results).toHaveLength(4);
    expect(page1.results[3]).toMatchObject({
      actor: tenants[3].name,
      rows: [{ title: "t0" }, { title: "t1" }],
      truncated: true,
    });
    const page2 = await registry(kind).queryAll({ sql: "SELECT 1 AS one", cursor: page1.cursor });
    expect(page2.results.map((r) => r.actor)).toEqual([tenants[4].name, tenants[5].name]);
    expect(page2.done).toBe(true);
    const bad = await registry(kind).queryAll({ sql: "SELECT * FROM nowhere", limit: 1 });
    expect(bad.errors[0]).toMatchObject({ actor: tenants[0].name, code: "SQL_ERROR" });
  });
});

describe("admin fleet routes", () => {
  it("list, migrate and query the tenants fleet with the admin token; refuse anyone else", async () => {
    const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });
    const tenant = freshTenant("adm");
    await admin("POST", `/tenants/${tenant}/users`, { email: "a@x.io", name: "A" });
    await vi.waitFor(async () => {
      const page = await json(admin("GET", "/admin/fleet/tenants?limit=500"));
      expect(page.actors.map((a: any) => a.name)).toContain(tenant);
    });
    const migrated = await json(admin("POST", "/admin/fleet/tenants/migrate", { concurrency: 2 }));
    expect(migrated).toMatchObject({ done: true, errors: [] });
    const counted = await json(
      admin("POST", "/admin/fleet/tenants/query", { sql: "SELECT count(*) AS n FROM users" }),
    );
    expect(counted.results.find((r: any) => r.actor === tenant).rows).toEqual([{ n: 1 }]);
    const refused = await admin("POST", "/admin/fleet/tenants/query", { sql: "DELETE FROM users" });
    expect([refused.status, await codeOf(refused)]).toEqual([400, "READ_ONLY"]);
    const registries = (await listDurableObjectIds(env.FLEET)).length;
    expect(await codeOf(admin("GET", "/admin/fleet/nothing"))).toBe("NOT_FOUND");
    expect((await listDurableObjectIds(env.FLEET)).length).toBe(registries);
    expect(await codeOf(admin("GET", "/admin/fleet/tenants?limit=abc"))).toBe("VALIDATION_FAILED");

    const user = await userToken("u1", { claims: { tenant } });
    const paths: [string, string, unknown?][] = [
      ["GET", "/admin/fleet/tenants"],
      ["POST", "/admin/fleet/tenants/migrate", {}],
      ["GET", "/admin/fleet/tenants/migrate"],
      ["POST", "/admin/fleet/tenants/query", { sql: "SELECT 1" }],
    ];
    for (const [method, path, body] of paths) {
      expect((await caller({ vars: SECURED })(method, path, body)).status).toBe(401);
      expect((await caller({ vars: SECURED, token: "wrong-admin-token" })(method, path, body)).status).toBe(
        401,
      );
      expect((await caller({ vars: SECURED, token: user })(method, path, body)).status).toBe(403);
      // With no ADMIN_TOKEN configured (but auth on), admin routes do not exist.
      const noAdmin = caller({ vars: { AUTH_JWT_SECRET: SECURED.AUTH_JWT_SECRET! }, token: ADMIN_TOKEN });
      expect((await noAdmin(method, path, body)).status).toBe(404);
    }
  });
});
