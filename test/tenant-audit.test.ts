// Audit of TenantDB (test first: each test here failed on the code before its fix).
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantDB } from "../actors/tenant-db/index";
import { ADMIN_TOKEN, SECURED } from "./auth-helpers";
import { caller, freshTenant, json } from "./tenant-helpers";

const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });
const DAY = 86_400_000;
const tenantStub = (tenant: string) => env.TENANT_DB.getByName(tenant) as DurableObjectStub<TenantDB>;

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
