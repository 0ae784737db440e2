import type { Context } from "hono";
import * as z from "zod/mini";
import { allow, callerOf, socketIdentity } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import type { TenancyOptions } from "../../src/coordinator/tenancy";
import { integerParam, parseInput, readJson, requireUpgrade } from "../../src/coordinator/validate";
import { withCaller } from "../../src/rpc/caller";
import { tenantNotFound } from "./errors";
import {
  archiveTasksInput,
  createProjectInput,
  createTaskInput,
  createUserInput,
  listProjectsInput,
  listTasksInput,
  recordId,
  restoreInput,
  updateProjectInput,
  updateTaskInput,
  updateUserInput,
} from "./inputs";

type C = Context<{ Bindings: Env }>;
const body = z.record(z.string(), z.unknown());

/**
 * The tenant routes of DESIGN.md §4 (users, projects, tasks, the tenant's socket), each a thin
 * layer over one TenantDB method. Every route is scoped to the tenant: users, projects, tasks and
 * the socket are `user` (a user token needs a `tenant` claim equal to the routed tenant: none →
 * 401, another → 403; the admin token reaches any tenant); backups, restore and the archive are
 * `admin` (the admin token only). Only `POST …/users` may create a tenant; every other route on a tenant
 * never written answers 404 TENANT_NOT_FOUND without reaching (and so creating) it.
 *
 * `createTenantRoutes()` routes by path (`/:tenant/users`, mounted at `/tenants`);
 * `createTenantRoutes({ from: "subdomain", baseDomain: "example.com" })` or `{ from: "header" }`
 * gives the same routes without the `:tenant` segment (`/users`), for apps that route that way.
 */
export function createTenantRoutes(tenancy: TenancyOptions = { from: "path" }): Hono<{ Bindings: Env }> {
  const sources = typeof tenancy.from === "string" ? [tenancy.from] : (tenancy.from ?? ["path"]);
  const base = sources.includes("path") ? `/:${tenancy.param ?? "tenant"}` : "";
  const user = allow("user", { tenant: tenancy });
  const routes = new Hono<{ Bindings: Env }>();

  routes.get(`${base}/users`, user, async (c) => c.json(await (await known(c)).listUsers()));
  routes.post(`${base}/users`, user, async (c) => {
    const input = await readJson(c, createUserInput);
    return c.json(await stub(c).createUser(input), 201);
  });
  routes.get(`${base}/users/:id`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).getUser({ id }));
  });
  routes.patch(`${base}/users/:id`, user, async (c) => {
    const input = parseInput(updateUserInput, { ...(await readJson(c, body)), id: idParam(c) });
    return c.json(await (await known(c)).updateUser(input));
  });

  routes.get(`${base}/projects`, user, async (c) => {
    const input = parseInput(listProjectsInput, { status: c.req.query("status") });
    return c.json(await (await known(c)).listProjects(input));
  });
  routes.post(`${base}/projects`, user, async (c) => {
    const input = await readJson(c, createProjectInput);
    return c.json(await (await known(c)).createProject(input), 201);
  });
  routes.get(`${base}/projects/:id`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).getProject({ id }));
  });
  routes.patch(`${base}/projects/:id`, user, async (c) => {
    const input = parseInput(updateProjectInput, { ...(await readJson(c, body)), id: idParam(c) });
    return c.json(await (await known(c)).updateProject(input));
  });
  routes.post(`${base}/projects/:id/archive`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).archiveProject({ id }));
  });
  routes.delete(`${base}/projects/:id`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).deleteProject({ id }));
  });

  routes.get(`${base}/tasks`, user, async (c) => {
    const q = c.req.query();
    const input = parseInput(listTasksInput, {
      project_id: integerParam(q.project_id),
      status: q.status,
      assignee_id: integerParam(q.assignee_id),
      include_archived: booleanParam(q.include_archived),
    });
    return c.json(await (await known(c)).listTasks(input));
  });
  routes.post(`${base}/tasks`, user, async (c) => {
    const input = await readJson(c, createTaskInput);
    return c.json(await (await known(c)).createTask(input), 201);
  });
  routes.patch(`${base}/tasks`, user, async (c) => {
    const input = await readJson(c, updateTaskInput);
    return c.json(await (await known(c)).updateTask(input));
  });
  routes.get(`${base}/tasks/:id`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).getTask({ id }));
  });
  routes.delete(`${base}/tasks/:id`, user, async (c) => {
    const id = idParam(c);
    return c.json(await (await known(c)).deleteTask({ id }));
  });

  // Backups (admin): now, list, restore from one of the tenant's own.
  const admin = allow("admin", { tenant: tenancy });
  routes.post(`${base}/backups`, admin, async (c) => c.json(await (await known(c)).backup(), 201));
  routes.get(`${base}/backups`, admin, async (c) => c.json(await (await known(c)).listBackups()));
  routes.post(`${base}/restore`, admin, async (c) => {
    const input = await readJson(c, restoreInput);
    return c.json(await (await known(c)).restoreBackup(input));
  });

  // The tasks archive (admin): archive now (body `{ older_than?, keep_for? }`, may be empty), list its files.
  routes.post(`${base}/archive`, admin, async (c) => {
    const input = (await c.req.text()).trim() === "" ? {} : await readJson(c, archiveTasksInput);
    return c.json(await (await known(c)).archiveTasks(input));
  });
  routes.get(`${base}/archive`, admin, async (c) => c.json(await (await known(c)).listArchive()));

  /**
   * The tenant's socket: RPC of the methods TenantDB offers (all `user`). The token comes as
   * `?token=` and must be this tenant's (checked by `allow` above, before the actor is reached);
   * the coordinator vouches the caller to the actor.
   */
  routes.get(`${base}/ws`, user, async (c) => {
    requireUpgrade(c);
    return (await known(c)).fetch(withCaller(c.req.raw, socketIdentity(callerOf(c), c.req.raw)));
  });

  return routes;
}

/** `/tenants/:tenant/...`, mounted by the coordinator at `/tenants`. */
export const tenantRoutes = createTenantRoutes();

/** The tenant's stub (any tenant: only the create of its first user may reach a new one). */
function stub(c: C) {
  return actorStub(c.env.TENANT_DB, c.var.tenant);
}

/** The stub of a tenant that exists, or TENANT_NOT_FOUND without reaching (and so creating) it. */
async function known(c: C) {
  const tenant = c.var.tenant;
  if (!(await isKnown(c.env, "tenants", tenant))) throw tenantNotFound(tenant);
  return stub(c);
}

function idParam(c: C): number {
  return parseInput(recordId, integerParam(c.req.param("id")));
}

/** `true`/`false` as a boolean; anything else stays a string so validation names it. */
function booleanParam(value: string | undefined): boolean | string | undefined {
  return value === "true" ? true : value === "false" ? false : value;
}
