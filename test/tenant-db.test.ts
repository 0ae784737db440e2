import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TenantDB } from "../actors/index";
import { ActorError, actorStub } from "../src/index";
import { caller, codeOf, freshTenant, json } from "./tenant-helpers";

const dev = caller();

/** A tenant with two users, two projects and four tasks; ids as created. */
async function seed(tenant: string) {
  const base = `/tenants/${tenant}`;
  const alice = await json(
    dev("POST", `${base}/users`, { email: `alice@${tenant}.io`, name: "Alice", role: "owner" }),
  );
  const bob = await json(dev("POST", `${base}/users`, { email: `bob@${tenant}.io`, name: "Bob" }));
  const web = await json(dev("POST", `${base}/projects`, { name: "Web", owner_id: alice.id }));
  const api = await json(
    dev("POST", `${base}/projects`, { name: "API", description: "v2", owner_id: bob.id }),
  );
  const task = async (body: Record<string, unknown>) => json(dev("POST", `${base}/tasks`, body));
  const t1 = await task({ project_id: web.id, title: "low", priority: 1, assignee_id: alice.id });
  const t2 = await task({
    project_id: web.id,
    title: "high late",
    priority: 5,
    due_date: "2026-12-31",
    status: "review",
  });
  const t3 = await task({
    project_id: web.id,
    title: "high soon",
    priority: 5,
    due_date: "2026-12-01",
    assignee_id: bob.id,
  });
  const t4 = await task({ project_id: api.id, title: "api", assignee_id: bob.id, status: "done" });
  return { base, alice, bob, web, api, t1, t2, t3, t4 };
}

describe("TenantDB CRUD over HTTP", () => {
  it("creates users, projects and tasks (201 with the record and its id)", async () => {
    const tenant = freshTenant();
    const res = await dev("POST", `/tenants/${tenant}/users`, { email: "a@x.io", name: "A" });
    expect(res.status).toBe(201);
    const user = await res.json<any>();
    expect(user).toMatchObject({ id: 1, email: "a@x.io", name: "A", role: "member" });
    expect(user.created_at).toBe(user.updated_at);
    const project = await dev("POST", `/tenants/${tenant}/projects`, { name: "P", owner_id: user.id });
    expect(project.status).toBe(201);
    expect(await project.json()).toMatchObject({
      id: 1,
      name: "P",
      status: "active",
      owner_id: 1,
      description: null,
    });
  });

  it("lists and gets users; updates a user", async () => {
    const { base, alice, bob } = await seed(freshTenant());
    const { users } = await json(dev("GET", `${base}/users`));
    expect(users.map((u: any) => u.name)).toEqual(["Alice", "Bob"]);
    expect(await json(dev("GET", `${base}/users/${bob.id}`))).toMatchObject({
      email: bob.email,
      role: "member",
    });
    const updated = await json(dev("PATCH", `${base}/users/${bob.id}`, { role: "admin", name: "Robert" }));
    expect(updated).toMatchObject({ id: bob.id, role: "admin", name: "Robert", email: bob.email });
    expect(await codeOf(dev("GET", `${base}/users/999`))).toBe("USER_NOT_FOUND");
    expect(await codeOf(dev("PATCH", `${base}/users/${alice.id}`, { email: bob.email }))).toBe("EMAIL_TAKEN");
  });

  it("lists projects by status with owner name and task count; updates and archives", async () => {
    const { base, web, api } = await seed(freshTenant());
    const { projects } = await json(dev("GET", `${base}/projects`));
    expect(projects.map((p: any) => [p.name, p.owner_name, p.task_count])).toEqual(
      expect.arrayContaining([
        ["Web", "Alice", 3],
        ["API", "Bob", 1],
      ]),
    );
    expect(projects).toHaveLength(2);
    const renamed = await json(
      dev("PATCH", `${base}/projects/${api.id}`, { name: "API v2", description: null }),
    );
    expect(renamed).toMatchObject({ name: "API v2", description: null });
    // The most recently updated comes first.
    expect((await json(dev("GET", `${base}/projects`))).projects[0].id).toBe(api.id);
    const archived = await json(dev("POST", `${base}/projects/${web.id}/archive`));
    expect(archived.status).toBe("archived");
    expect((await json(dev("GET", `${base}/projects`))).projects.map((p: any) => p.id)).toEqual([api.id]);
    const old = await json(dev("GET", `${base}/projects?status=archived`));
    expect(old.projects.map((p: any) => [p.id, p.task_count])).toEqual([[web.id, 3]]);
    expect(await codeOf(dev("GET", `${base}/projects?status=gone`))).toBe("VALIDATION_FAILED");
  });

  it("lists tasks with every filter, ordered by priority desc then due date asc", async () => {
    const { base, alice, bob, web, api, t1, t2, t3, t4 } = await seed(freshTenant());
    const ids = async (query = "") =>
      (await json(dev("GET", `${base}/tasks${query}`))).tasks.map((t: any) => t.id);
    expect(await ids()).toEqual([t3.id, t2.id, t1.id, t4.id]);
    expect(await ids(`?project_id=${web.id}`)).toEqual([t3.id, t2.id, t1.id]);
    expect(await ids(`?project_id=${api.id}`)).toEqual([t4.id]);
    expect(await ids("?status=review")).toEqual([t2.id]);
    expect(await ids(`?assignee_id=${bob.id}`)).toEqual([t3.id, t4.id]);
    expect(await ids(`?assignee_id=${alice.id}&project_id=${web.id}&status=todo`)).toEqual([t1.id]);
    expect(await ids(`?assignee_id=${alice.id}&status=done`)).toEqual([]);
    const [first] = (await json(dev("GET", `${base}/tasks?project_id=${web.id}`))).tasks;
    expect(first).toMatchObject({ project_name: "Web", assignee_name: "Bob", due_date: "2026-12-01" });
    for (const bad of ["?status=nope", "?project_id=x", "?assignee_id=-1"])
      expect(await codeOf(dev("GET", `${base}/tasks${bad}`))).toBe("VALIDATION_FAILED");
  });

  it("updates a task's status, assignee and priority, keeping updated_at current", async () => {
    const { base, bob, t1 } = await seed(freshTenant());
    await new Promise((r) => setTimeout(r, 5));
    const res = await dev("PATCH", `${base}/tasks`, {
      id: t1.id,
      status: "in_progress",
      assignee_id: bob.id,
      priority: 9,
    });
    expect(res.status).toBe(200);
    const task = await res.json<any>();
    expect(task).toMatchObject({ id: t1.id, status: "in_progress", assignee_id: bob.id, priority: 9 });
    expect(task.updated_at > t1.updated_at).toBe(true);
    expect(task.created_at).toBe(t1.created_at);
    const unassigned = await json(dev("PATCH", `${base}/tasks`, { id: t1.id, assignee_id: null }));
    expect(unassigned.assignee_id).toBeNull();
    expect(await codeOf(dev("PATCH", `${base}/tasks`, { id: 999, status: "done" }))).toBe("TASK_NOT_FOUND");
  });

  it("deletes a task; deleting a project deletes its tasks (ON DELETE CASCADE)", async () => {
    const { base, web, api, t1 } = await seed(freshTenant());
    expect(await json(dev("DELETE", `${base}/tasks/${t1.id}`))).toEqual({ deleted: true, id: t1.id });
    expect(await codeOf(dev("DELETE", `${base}/tasks/${t1.id}`))).toBe("TASK_NOT_FOUND");
    expect(await json(dev("DELETE", `${base}/projects/${web.id}`))).toEqual({
      deleted: true,
      id: web.id,
      tasks: 2,
    });
    const left = (await json(dev("GET", `${base}/tasks`))).tasks;
    expect(left.map((t: any) => t.project_id)).toEqual([api.id]);
  });
});

describe("TenantDB refuses bad input and constraint violations with typed errors", () => {
  it("answers 400/409, never 500, and writes nothing", async () => {
    const { base, alice, web } = await seed(freshTenant());
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/users", { email: alice.email, name: "Again" }, 409, "EMAIL_TAKEN"],
      ["POST", "/users", { email: "x@y.io", name: "X", role: "root" }, 400, "VALIDATION_FAILED"],
      ["POST", "/users", { email: "not-an-email", name: "X" }, 400, "VALIDATION_FAILED"],
      ["POST", "/users", { email: "x@y.io" }, 400, "VALIDATION_FAILED"],
      ["POST", "/projects", { name: "P", owner_id: 999 }, 400, "UNKNOWN_REFERENCE"],
      ["POST", "/projects", { name: "", owner_id: alice.id }, 400, "VALIDATION_FAILED"],
      ["POST", "/tasks", { project_id: 999, title: "T" }, 400, "UNKNOWN_REFERENCE"],
      ["POST", "/tasks", { project_id: web.id, title: "T", assignee_id: 999 }, 400, "UNKNOWN_REFERENCE"],
      ["POST", "/tasks", { project_id: web.id, title: "T", status: "blocked" }, 400, "VALIDATION_FAILED"],
      ["POST", "/tasks", { project_id: web.id, title: "T", due_date: "tomorrow" }, 400, "VALIDATION_FAILED"],
      ["POST", "/tasks", { project_id: web.id, title: "T", priority: 1.5 }, 400, "VALIDATION_FAILED"],
      ["PATCH", "/tasks", { id: 1, assignee_id: 999 }, 400, "UNKNOWN_REFERENCE"],
      ["PATCH", "/tasks", { status: "done" }, 400, "VALIDATION_FAILED"],
      ["PATCH", `/projects/${web.id}`, { status: "paused" }, 400, "VALIDATION_FAILED"],
      ["PATCH", "/users/abc", { name: "x" }, 400, "VALIDATION_FAILED"],
      ["POST", "/tasks", "[1,2", 400, "INVALID_JSON"],
    ];
    const before = await json(dev("GET", `${base}/tasks`));
    for (const [method, path, body, status, code] of cases) {
      const res =
        typeof body === "string"
          ? await dev(method, `${base}${path}`, undefined, { "content-type": "application/json" })
          : await dev(method, `${base}${path}`, body);
      expect([method, path, res.status, await codeOf(res)]).toEqual([method, path, status, code]);
    }
    expect(await json(dev("GET", `${base}/tasks`))).toEqual(before);
    expect((await json(dev("GET", `${base}/users`))).users).toHaveLength(2);
  });

  it("over RPC: the same typed errors; the schema's CHECKs are the backstop", async () => {
    const tenant = freshTenant();
    const stub = actorStub(env.TENANT_DB, tenant);
    await stub.createUser({ email: "a@x.io", name: "A" });
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return ActorError.from(err)?.code;
      }
    };
    expect(await code(stub.createUser({ email: "a@x.io", name: "B" }))).toBe("EMAIL_TAKEN");
    expect(await code(stub.createTask({ project_id: 5, title: "t" }))).toBe("UNKNOWN_REFERENCE");
    expect(await code(stub.createUser({ email: 5 } as never))).toBe("VALIDATION_FAILED");
    // Below the typed checks, the schema's own CHECK refuses a role outside the three.
    const err = await runInDurableObject(env.TENANT_DB.getByName(tenant), (actor: TenantDB) => {
      try {
        actor.transaction(() => actor.query("UPDATE users SET role = 'root'"));
      } catch (e) {
        return String(e);
      }
    });
    expect(err).toMatch(/CHECK constraint failed/);
  });
});

describe("tenants that were never written", () => {
  it("answer 404 TENANT_NOT_FOUND on every lookup without creating storage", async () => {
    const tenant = freshTenant("ghost");
    const paths = ["/users", "/users/1", "/projects", "/projects/1", "/tasks", "/tasks/1"];
    for (const path of paths)
      expect(await codeOf(dev("GET", `/tenants/${tenant}${path}`))).toBe("TENANT_NOT_FOUND");
    expect(await codeOf(dev("POST", `/tenants/${tenant}/projects`, { name: "P", owner_id: 1 }))).toBe(
      "TENANT_NOT_FOUND",
    );
    expect(await codeOf(dev("PATCH", `/tenants/${tenant}/tasks`, { id: 1, status: "done" }))).toBe(
      "TENANT_NOT_FOUND",
    );
    expect(await codeOf(dev("DELETE", `/tenants/${tenant}/tasks/1`))).toBe("TENANT_NOT_FOUND");
    const { listDurableObjectIds } = await import("cloudflare:test");
    const ids = (await listDurableObjectIds(env.TENANT_DB)).map((id) => id.toString());
    expect(ids).not.toContain(env.TENANT_DB.idFromName(tenant).toString());
    expect(await codeOf(dev("GET", "/tenants/../users"))).not.toBe("INTERNAL");
    expect(await codeOf(dev("GET", `/tenants/${"x".repeat(129)}/users`))).toBe("INVALID_NAME");
  });
});

describe("isolation", () => {
  it("no route of tenant B shows anything of tenant A", async () => {
    const a = await seed(freshTenant("iso-a"));
    const tenantB = freshTenant("iso-b");
    const b = `/tenants/${tenantB}`;
    const carol = await json(dev("POST", `${b}/users`, { email: "carol@b.io", name: "Carol" }));
    const proj = await json(dev("POST", `${b}/projects`, { name: "B only", owner_id: carol.id }));
    await dev("POST", `${b}/tasks`, { project_id: proj.id, title: "b task" });
    // Ids of tenant A's records (1..4) probed through tenant B's routes: only B's own, or 404.
    const texts: string[] = [];
    for (const path of [
      "/users",
      "/projects",
      "/projects?status=archived",
      "/tasks",
      `/tasks?project_id=${a.web.id}`,
    ])
      texts.push(await (await dev("GET", `${b}${path}`)).text());
    for (const id of [1, 2, 3, 4])
      for (const kind of ["users", "projects", "tasks"])
        texts.push(await (await dev("GET", `${b}/${kind}/${id}`)).text());
    const all = texts.join("\n");
    for (const secret of [a.alice.email, a.bob.email, "Alice", "Web", "API", "high soon", "api"])
      expect(all).not.toContain(secret);
    expect(all).toContain("Carol");
    // Writes through B with A's ids touch B only.
    expect(await codeOf(dev("PATCH", `${b}/tasks`, { id: a.t3.id, status: "done" }))).toBe("TASK_NOT_FOUND");
    expect((await json(dev("GET", `${a.base}/tasks/${a.t3.id}`))).status).toBe("todo");
  });
});
