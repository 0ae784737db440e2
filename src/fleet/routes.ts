import type { Context } from "hono";
import { allow } from "../coordinator/access";
import { Hono } from "../coordinator/hono";
import { integerParam, parseInput, readJson } from "../coordinator/validate";
import { ActorError } from "../errors";
import { listInput, migrateInput, queryInput } from "./inputs";
import type { FleetEnv } from "./part";

/** The actor kinds of DESIGN.md §4 (route prefixes); any other `:kind` is 404 without reaching a registry. */
export const FLEET_KINDS = ["tenants", "documents", "inventory", "orders", "analytics", "buildings"] as const;

/**
 * `/admin/fleet/:kind…` (mounted at `/admin/fleet`), all `admin` (`ADMIN_TOKEN`; 404 when unset
 * outside development mode): list, migrate (a batch, or `background: true`), migration status,
 * read-only query.
 */
export function createFleetRoutes<E extends FleetEnv = FleetEnv>(
  kinds: readonly string[] = FLEET_KINDS,
): Hono<{ Bindings: E }> {
  const routes = new Hono<{ Bindings: E }>();
  const registry = (c: Context) => {
    const kind = c.req.param("kind") ?? "";
    if (!kinds.includes(kind)) throw new ActorError("NOT_FOUND", `no actor kind ${JSON.stringify(kind)}`);
    const ns = (c.env as FleetEnv | undefined)?.FLEET;
    if (!ns) throw new ActorError("NOT_FOUND", "no fleet registry is bound (FLEET)");
    return ns.getByName(kind);
  };

  routes.get("/:kind", allow("admin"), async (c) => {
    const input = parseInput(listInput, {
      cursor: c.req.query("cursor"),
      limit: integerParam(c.req.query("limit")),
    });
    const ns = registry(c);
    return c.json(await ns.list(input));
  });
  routes.post("/:kind/migrate", allow("admin"), async (c) => {
    const input = await readOptionalJson(c, migrateInput);
    const ns = registry(c);
    return c.json(await ns.migrateAll(input));
  });
  routes.get("/:kind/migrate", allow("admin"), async (c) => {
    const ns = registry(c);
    return c.json({ job: await ns.migrateStatus() });
  });
  routes.post("/:kind/query", allow("admin"), async (c) => {
    const input = await readJson(c, queryInput);
    const ns = registry(c);
    return c.json(await ns.queryAll(input));
  });
  return routes;
}

export const fleetRoutes = createFleetRoutes();

/** An empty body is `{}`. */
async function readOptionalJson<S extends Parameters<typeof readJson>[1]>(c: Context, schema: S) {
  const length = c.req.header("content-length");
  if (length === "0" || (length === undefined && c.req.header("content-type") === undefined))
    return parseInput(schema, {});
  return readJson(c, schema);
}
