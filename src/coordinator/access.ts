import type { Context, Hono, MiddlewareHandler } from "hono";
import { ActorError } from "../errors";
import { type AuthEnv, authConfig, authenticate, bearerToken, type Caller, type Role } from "./auth";
import { type TenancyOptions, tenantOf } from "./tenancy";

declare module "hono" {
  interface ContextVariableMap {
    caller: Caller;
    /** The tenant a route declared with `allow(role, { tenant })` was routed to. */
    tenant: string;
  }
}

const ROLE = Symbol("dosql-actors/role");
type RoleMiddleware = MiddlewareHandler & { [ROLE]: Role };

/**
 * The role a route needs, as its first handler: `routes.get("/x", allow("user"), handler)`.
 * It authenticates before the handler (so before any actor is reached) and puts the caller in
 * `c.var.caller`. The coordinator refuses to mount a route that declares no role.
 * With `{ tenant }` the route belongs to a tenant (found in the path, subdomain or header, see
 * src/coordinator/tenancy.ts; `c.var.tenant`), and a user token must be that tenant's.
 */
export function allow(role: Role, options: { tenant?: TenancyOptions } = {}): MiddlewareHandler {
  const middleware = (async (c, next) => {
    const env = (c.env ?? {}) as AuthEnv;
    const tenant = options.tenant ? tenantOf(c, options.tenant) : undefined;
    c.set("caller", await authenticate(bearerToken(c.req.raw), env, role, { tenant }));
    if (tenant !== undefined) c.set("tenant", tenant);
    await next();
  }) as RoleMiddleware;
  middleware[ROLE] = role;
  return middleware;
}

/** The caller `allow()` verified for this request. */
export function callerOf(c: Context): Caller {
  const caller = c.get("caller");
  if (!caller) throw new ActorError("INTERNAL", "route declared no role");
  return caller;
}

/** Every `METHOD path` of `app` that has no `allow(role)` handler: the coordinator refuses to start with any. */
export function routesWithoutRole(app: Hono<any>): string[] {
  const declared = new Map<string, boolean>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    const hasRole = ROLE in (route.handler as object);
    declared.set(key, (declared.get(key) ?? false) || hasRole);
  }
  return [...declared].filter(([, ok]) => !ok).map(([key]) => key);
}

/** The id a user's records are kept under, and what logs name: the token's `sub`, or for admin/dev what the request says. */
export function customerOf(caller: Caller, asked: string | undefined): string | undefined {
  if (caller.role === "user") return caller.userId;
  if (caller.role === "admin") return asked;
  return undefined;
}

/**
 * Who a socket's upgrade request is, for `withCaller` (src/rpc/caller.ts): development mode and
 * the admin token are admin, a valid user token is that user, no token is public; a token that
 * does not verify is refused (401), as on HTTP routes.
 */
export async function socketCaller(request: Request, env: AuthEnv): Promise<SocketIdentity> {
  const token = bearerToken(request);
  if (token === undefined && !authConfig(env).dev) return { role: "public" };
  return socketIdentity(await authenticate(token, env, "user"), request);
}

/** What the coordinator vouches to an actor for a socket. */
export interface SocketIdentity {
  role: Role;
  userId?: string;
  name?: string;
}

/**
 * The identity vouched for a socket of `caller`: a user token's `sub`; in development mode
 * `?userId=&userName=` (there identity comes from the request, DESIGN.md §4); else no user.
 * The actor takes the vouched identity only, never the URL's.
 */
export function socketIdentity(caller: Caller, request: Request): SocketIdentity {
  if (caller.role === "user") return { role: "user", userId: caller.userId };
  if (caller.role === "admin" && caller.dev) {
    const params = new URL(request.url).searchParams;
    return {
      role: "admin",
      userId: params.get("userId") ?? undefined,
      name: params.get("userName") ?? undefined,
    };
  }
  return { role: caller.role };
}
