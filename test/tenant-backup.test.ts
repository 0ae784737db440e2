import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { TenantDB } from "../actors/tenant-db/index";
import { ADMIN_TOKEN, SECURED, userToken } from "./auth-helpers";
import { caller, codeOf, freshTenant, json } from "./tenant-helpers";

const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });

describe("tenant backups in R2 under the tenant's own prefix", () => {
  it("backs up to <tenant>/backups/, lists, and restores (admin only; never another tenant's backup)", async () => {
    const tenant = freshTenant("bk");
    const base = `/tenants/${tenant}`;
    const user = await json(admin("POST", `${base}/users`, { email: "a@x.io", name: "A" }));
    const project = await json(admin("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
    for (const title of ["one", "two"])
      await admin("POST", `${base}/tasks`, { project_id: project.id, title });

    const res = await admin("POST", `${base}/backups`);
    expect(res.status).toBe(201);
    const backup = await res.json<any>();
    expect(backup).toMatchObject({ done: true });
    expect(backup.key).toMatch(new RegExp(`^${tenant}/backups/[^/]+/backup\\.json$`));
    const stored = await env.ARCHIVE.list({ prefix: `${tenant}/` });
    expect(stored.objects.length).toBeGreaterThan(0);
    expect(stored.objects.every((o) => o.key.startsWith(`${tenant}/backups/`))).toBe(true);
    expect((await json(admin("GET", `${base}/backups`))).backups.map((b: any) => b.key)).toEqual([
      backup.key,
    ]);

    // Damage, then restore.
    await admin("DELETE", `${base}/projects/${project.id}`);
    expect((await json(admin("GET", `${base}/tasks`))).tasks).toEqual([]);
    const restored = await admin("POST", `${base}/restore`, { key: backup.key });
    expect(restored.status).toBe(200);
    const titles = (await json(admin("GET", `${base}/tasks`))).tasks.map((t: any) => t.title).sort();
    expect(titles).toEqual(["one", "two"]);

    // Another tenant cannot be restored from this one's backup; users cannot reach these routes.
    const other = freshTenant("bk-other");
    await admin("POST", `/tenants/${other}/users`, { email: "o@x.io", name: "O" });
    expect(await codeOf(admin("POST", `/tenants/${other}/restore`, { key: backup.key }))).toBe(
      "VALIDATION_FAILED",
    );
    expect((await json(admin("GET", `/tenants/${other}/users`))).users.map((u: any) => u.name)).toEqual([
      "O",
    ]);
    const own = caller({ vars: SECURED, token: await userToken("u", { claims: { tenant } }) });
    expect((await own("POST", `${base}/backups`)).status).toBe(403);
    expect((await own("GET", `${base}/backups`)).status).toBe(403);
    expect((await own("POST", `${base}/restore`, { key: backup.key })).status).toBe(403);
  });

  it("after a restore the fleet registry lists the tenant's size as restored", async () => {
    const tenant = freshTenant("bk-size");
    const base = `/tenants/${tenant}`;
    const user = await json(admin("POST", `${base}/users`, { email: "a@x.io", name: "A" }));
    const project = await json(admin("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
    const listed = async () =>
      (await json(admin("GET", "/admin/fleet/tenants?limit=500"))).actors.find(
        (a: { name: string }) => a.name === tenant,
      );
    // Its first wake reported its size then (a fresh report holds for an hour).
    await vi.waitFor(async () => expect(await listed()).toBeDefined(), { timeout: 10_000, interval: 50 });
    const first = (await listed()).bytes;
    for (let i = 0; i < 60; i++)
      await admin("POST", `${base}/tasks`, {
        project_id: project.id,
        title: `t${i}`,
        description: "x".repeat(4000),
      });
    const backup = await json(admin("POST", `${base}/backups`));
    expect((await admin("POST", `${base}/restore`, { key: backup.key })).status).toBe(200);
    const stub = env.TENANT_DB.getByName(tenant) as DurableObjectStub<TenantDB>;
    const { databaseBytes } = await stub.stats();
    expect(databaseBytes).toBeGreaterThan(first);
    await vi.waitFor(async () => expect((await listed()).bytes).toBe(databaseBytes), {
      timeout: 5_000,
      interval: 50,
    });
  });
});
