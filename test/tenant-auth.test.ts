import { env, listDurableObjectIds } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, es256, SECRET, SECURED, unsignedToken, userToken } from "./auth-helpers";
import { openSocket } from "./rpc-helpers";
import { caller, codeOf, fetchWith, freshTenant, json } from "./tenant-helpers";

const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });
const tokenFor = (tenant: string, sub = "u1", options: { exp?: number; secret?: string } = {}) =>
  userToken(sub, { ...options, claims: { tenant } });
const as = (token: string | undefined) => caller({ vars: SECURED, token });

async function stored(tenant: string): Promise<boolean> {
  const id = env.TENANT_DB.idFromName(tenant).toString();
  return (await listDurableObjectIds(env.TENANT_DB)).some((x) => x.toString() === id);
}

/** A tenant with one user, one project and one task, created by the admin. */
async function seeded() {
  const tenant = freshTenant("auth");
  const base = `/tenants/${tenant}`;
  const user = await json(admin("POST", `${base}/users`, { email: "a@x.io", name: "A" }));
  const project = await json(admin("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
  const task = await json(admin("POST", `${base}/tasks`, { project_id: project.id, title: "T" }));
  return { tenant, base, user, project, task };
}

/** Every tenant route, as [method, path, body]. */
function everyRoute(base: string, ids: { user: number; project: number; task: number }) {
  return [
    ["GET", `${base}/users`],
    ["POST", `${base}/users`, { email: `n${Math.random()}@x.io`, name: "N" }],
    ["GET", `${base}/users/${ids.user}`],
    ["PATCH", `${base}/users/${ids.user}`, { name: "Changed" }],
    ["GET", `${base}/projects`],
    ["POST", `${base}/projects`, { name: "Q", owner_id: ids.user }],
    ["GET", `${base}/projects/${ids.project}`],
    ["PATCH", `${base}/projects/${ids.project}`, { name: "Changed" }],
    ["POST", `${base}/projects/${ids.project}/archive`],
    ["GET", `${base}/tasks`],
    ["POST", `${base}/tasks`, { project_id: ids.project, title: "U" }],
    ["PATCH", `${base}/tasks`, { id: ids.task, status: "done" }],
    ["GET", `${base}/tasks/${ids.task}`],
    ["DELETE", `${base}/tasks/${ids.task}`],
    ["DELETE", `${base}/projects/${ids.project}`],
  ] as [string, string, unknown?][];
}

describe("tenant tokens", () => {
  it("a token of the tenant reaches every route; the admin token too", async () => {
    const s = await seeded();
    const own = as(await tokenFor(s.tenant));
    for (const [method, path, body] of everyRoute(s.base, {
      user: s.user.id,
      project: s.project.id,
      task: s.task.id,
    })) {
      const res = await own(method, path, body);
      expect([method, path, res.status < 300]).toEqual([method, path, true]);
    }
    expect((await admin("GET", `${s.base}/users`)).status).toBe(200);
  });

  it("backups, restore and the archive are admin only: the tenant's own token is 403, and without ADMIN_TOKEN they are 404", async () => {
    const s = await seeded();
    const adminRoutes: [string, string, unknown?][] = [
      ["POST", `${s.base}/backups`],
      ["GET", `${s.base}/backups`],
      ["POST", `${s.base}/restore`, { key: `${s.tenant}/backups/x/backup.json` }],
      ["POST", `${s.base}/archive`],
      ["GET", `${s.base}/archive`],
    ];
    const token = await tokenFor(s.tenant);
    const own = as(token);
    const noAdminToken = caller({ vars: { AUTH_JWT_SECRET: SECRET }, token });
    for (const [method, path, body] of adminRoutes) {
      expect([method, path, (await own(method, path, body)).status]).toEqual([method, path, 403]);
      expect([method, path, (await noAdminToken(method, path, body)).status]).toEqual([method, path, 404]);
    }
    expect((await admin("GET", `${s.base}/backups`)).status).toBe(200);
    expect((await noAdminToken("GET", `${s.base}/users`)).status).toBe(200);
  });

  it("refuses every bad token with 401, another tenant's with 403, and reads or writes nothing", async () => {
    const s = await seeded();
    const now = Math.floor(Date.now() / 1000);
    const wrongAlg = await new SignJWT({ tenant: s.tenant })
      .setProtectedHeader({ alg: "HS512" })
      .setSubject("u1")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(SECRET));
    const refusals: [string, string | undefined, number][] = [
      ["no token", undefined, 401],
      ["alg none", unsignedToken("u1"), 401],
      ["wrong algorithm", wrongAlg, 401],
      ["bad signature", await tokenFor(s.tenant, "u1", { secret: "another-secret-0123456789abcdef01" }), 401],
      ["expired", await tokenFor(s.tenant, "u1", { exp: now - 60 }), 401],
      ["no tenant claim", await userToken("u1"), 401],
      ["malformed", "not.a.jwt", 401],
      ["another tenant's", await tokenFor(`${s.tenant}-other`), 403],
    ];
    const before = await json(admin("GET", `${s.base}/tasks`));
    const users = await json(admin("GET", `${s.base}/users`));
    for (const [label, token, status] of refusals)
      for (const [method, path, body] of everyRoute(s.base, {
        user: s.user.id,
        project: s.project.id,
        task: s.task.id,
      })) {
        const res = await as(token)(method, path, body);
        expect([label, method, path, res.status]).toEqual([label, method, path, status]);
        expect(await codeOf(res)).toBe(status === 401 ? "UNAUTHORIZED" : "FORBIDDEN");
      }
    // A malformed Authorization header (not "Bearer <token>").
    const raw = await caller({ vars: SECURED })("GET", `${s.base}/users`, undefined, {
      authorization: "Basic abc",
    });
    expect(raw.status).toBe(401);
    expect(await json(admin("GET", `${s.base}/tasks`))).toEqual(before);
    expect(await json(admin("GET", `${s.base}/users`))).toEqual(users);
    // A refused create of a new tenant creates nothing.
    const fresh = freshTenant("refused");
    const res = await as(await tokenFor("someone-else"))("POST", `/tenants/${fresh}/users`, {
      email: "z@x.io",
      name: "Z",
    });
    expect(res.status).toBe(403);
    expect(await stored(fresh)).toBe(false);
  });

  it("ES256 tokens (AUTH_JWKS): the full tenant flow, and the same refusals as HS256", async () => {
    const { jwks, sign } = await es256();
    const vars = { AUTH_JWKS: jwks, ADMIN_TOKEN };
    const es = (token: string | undefined) => caller({ vars, token });
    const tenant = freshTenant("es256");
    const base = `/tenants/${tenant}`;
    const own = es(await sign("u1", { tenant }));
    // The tenant's own ES256 token creates the tenant, then reaches every route.
    const created = await own("POST", `${base}/users`, { email: "a@x.io", name: "A" });
    expect(created.status).toBe(201);
    const user = await created.json<{ id: number }>();
    const project = await json(own("POST", `${base}/projects`, { name: "P", owner_id: user.id }));
    const task = await json(own("POST", `${base}/tasks`, { project_id: project.id, title: "T" }));
    expect(task).toMatchObject({ project_id: project.id, title: "T" });
    const routes = everyRoute(base, { user: user.id, project: project.id, task: task.id });

    // Refusals first (the routes delete the task and the project at the end).
    const other = await es256(); // same kid, another key: not in AUTH_JWKS
    const refusals: [string, string | undefined, number][] = [
      ["no tenant claim", await sign("u1"), 401],
      ["key not in the set", await other.sign("u1", { tenant }), 401],
      ["HS256 when only AUTH_JWKS is set", await tokenFor(tenant), 401],
      ["another tenant's", await sign("u1", { tenant: `${tenant}-other` }), 403],
    ];
    const before = await json(own("GET", `${base}/tasks`));
    for (const [label, token, status] of refusals)
      for (const [method, path, body] of routes) {
        const res = await es(token)(method, path, body);
        expect([label, method, path, res.status]).toEqual([label, method, path, status]);
      }
    expect(await json(own("GET", `${base}/tasks`))).toEqual(before);
    expect((await json(own("GET", `${base}/users`))).users).toHaveLength(1);

    // The socket takes the ES256 token as ?token=.
    const socket = await openSocket(
      {
        fetch: (request: Request) =>
          fetchWith(new Request(`http://coordinator${base}/ws${new URL(request.url).search}`, request), vars),
      },
      { query: { token: await sign("u1", { tenant }) } },
    );
    expect((await socket.call("getTask", { id: task.id })).result.title).toBe("T");
    socket.ws.close();

    for (const [method, path, body] of routes) {
      const res = await own(method, path, body);
      expect([method, path, res.status < 300]).toEqual([method, path, true]);
    }
    expect((await json(own("GET", `${base}/projects`))).projects).toHaveLength(1); // "Q"; "P" deleted
  });

  it("routes by subdomain or X-Tenant-ID header when configured", async () => {
    const { createTenantRoutes } = await import("../actors/tenant-db/routes");
    const { createCoordinator } = await import("../src/coordinator/index");
    const s = await seeded();
    const bySub = createCoordinator<Env>([
      { path: "/", app: createTenantRoutes({ from: "subdomain", baseDomain: "example.com" }) },
    ]);
    const byHeader = createCoordinator<Env>([{ path: "/", app: createTenantRoutes({ from: "header" }) }]);
    const bindings = { ...env, ...SECURED } as Env;
    const token = await tokenFor(s.tenant);
    const auth = { authorization: `Bearer ${token}` };
    const sub = await bySub.fetch(
      new Request(`http://${s.tenant}.example.com/users`, { headers: auth }),
      bindings,
    );
    expect((await sub.json<any>()).users[0].email).toBe("a@x.io");
    const other = await bySub.fetch(
      new Request("http://other.example.com/users", { headers: auth }),
      bindings,
    );
    expect(other.status).toBe(403);
    const none = await bySub.fetch(new Request("http://www.example.com/users", { headers: auth }), bindings);
    expect(await codeOf(none)).toBe("TENANT_REQUIRED");
    const head = await byHeader.fetch(
      new Request("http://api.example.com/tasks", { headers: { ...auth, "x-tenant-id": s.tenant } }),
      bindings,
    );
    expect((await head.json<any>()).tasks).toHaveLength(1);
  });
});

describe("the tenant socket (/tenants/:tenant/ws)", () => {
  const socketVia = (tenant: string) => ({
    fetch: (request: Request) => {
      const url = new URL(request.url);
      return fetchWith(new Request(`http://coordinator/tenants/${tenant}/ws${url.search}`, request), SECURED);
    },
  });

  it("takes the tenant's token as ?token= and serves the offered methods", async () => {
    const s = await seeded();
    const socket = await openSocket(socketVia(s.tenant), { query: { token: await tokenFor(s.tenant) } });
    const listed = await socket.call("listTasks", { project_id: s.project.id });
    expect(listed.result.tasks.map((t: any) => t.title)).toEqual(["T"]);
    const updated = await socket.call("updateTask", { id: s.task.id, status: "review" });
    expect(updated.result.status).toBe("review");
    expect((await socket.call("createUser", { email: "w@x.io", name: "W" })).error.code).toBe(
      "METHOD_NOT_ALLOWED",
    );
    expect((await socket.call("updateTask", { id: "x" })).error.code).toBe("VALIDATION_FAILED");
    socket.ws.close();
  });

  it("refuses no token, another tenant's token and unknown tenants before reaching the actor", async () => {
    const s = await seeded();
    const upgrade = async (tenant: string, token?: string) =>
      fetchWith(
        new Request(`http://coordinator/tenants/${tenant}/ws${token ? `?token=${token}` : ""}`, {
          headers: { Upgrade: "websocket" },
        }),
        SECURED,
      );
    expect((await upgrade(s.tenant)).status).toBe(401);
    expect((await upgrade(s.tenant, await tokenFor("other"))).status).toBe(403);
    const ghost = freshTenant("ghost-ws");
    expect(await codeOf(upgrade(ghost, await tokenFor(ghost)))).toBe("TENANT_NOT_FOUND");
    expect(await stored(ghost)).toBe(false);
  });
});
