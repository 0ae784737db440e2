import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { ActorError } from "../errors";

/**
 * Who may call what (DESIGN.md §4). Every route and every socket method declares one role:
 * - `public`: anyone;
 * - `user`: a JWT (`Authorization: Bearer`, or `?token=` on a WebSocket upgrade) verified with
 *   `AUTH_JWT_SECRET` (HS256) or `AUTH_JWKS` (RS256/ES256): `sub` is the user, `tenant` the tenant;
 * - `admin`: `Authorization: Bearer <ADMIN_TOKEN>`.
 * An admin may do what a user may. With none of the three variables set the server is in
 * development mode: everything is open and the caller counts as admin (logged once).
 */
export type Role = "public" | "user" | "admin";

/** The verified caller, as routes and socket methods see it. */
export type Caller =
  | { role: "public" }
  | { role: "user"; userId: string; tenant?: string; claims: JWTPayload }
  | { role: "admin"; dev: boolean };

/** The variables the auth module reads; every one is optional. */
export interface AuthEnv {
  AUTH_JWT_SECRET?: string;
  /** A JSON Web Key Set (the JSON itself), or an https URL serving one (fetched and cached by jose). */
  AUTH_JWKS?: string;
  ADMIN_TOKEN?: string;
}

ActorError.defineStatus("UNAUTHORIZED", 401);
ActorError.defineStatus("FORBIDDEN", 403);

/** Seconds of clock skew accepted on `exp`/`nbf`. */
const CLOCK_TOLERANCE_S = 5;
const HS_ALGORITHMS = ["HS256"];
const JWKS_ALGORITHMS = ["RS256", "ES256"];

interface AuthConfig {
  dev: boolean;
  secret?: Uint8Array;
  jwks?: JWTVerifyGetKey;
  adminToken?: string;
}

/** One parsed config per distinct set of values (env objects differ per request, their values do not). */
const configs = new Map<string, AuthConfig>();
let devModeLogged = false;

export function authConfig(env: AuthEnv): AuthConfig {
  const secret = nonEmpty(env.AUTH_JWT_SECRET);
  const jwks = nonEmpty(env.AUTH_JWKS);
  const adminToken = nonEmpty(env.ADMIN_TOKEN);
  const key = JSON.stringify([secret, jwks, adminToken]);
  let config = configs.get(key);
  if (!config) {
    config = {
      dev: !secret && !jwks && !adminToken,
      secret: secret ? new TextEncoder().encode(secret) : undefined,
      jwks: jwks ? keySet(jwks) : undefined,
      adminToken,
    };
    if (configs.size > 16) configs.clear();
    configs.set(key, config);
  }
  if (config.dev && !devModeLogged) {
    devModeLogged = true;
    console.warn(
      "dosql-actors: development mode (no AUTH_JWT_SECRET, AUTH_JWKS or ADMIN_TOKEN set): every route is open",
    );
  }
  return config;
}

/** Does a caller of this kind satisfy `role`? The one rule shared by routes and socket methods. */
export function allows(caller: Caller, role: Role): boolean {
  if (role === "public") return true;
  if (caller.role === "admin") return true;
  return role === "user" && caller.role === "user";
}

/** What a call is scoped to: `tenant`, the tenant routed to (path, subdomain or header). */
export interface AuthScope {
  tenant?: string;
}

/**
 * Verify `token` (the bearer value, or undefined) for a call that needs `role`, and return the
 * caller. Throws 401 `UNAUTHORIZED` (no/bad token), 403 `FORBIDDEN` (a valid user token on an
 * admin call) or 404 `NOT_FOUND` (an admin call while no `ADMIN_TOKEN` is set). With
 * `scope.tenant`, a user token must carry a `tenant` claim equal to it: none → 401, another
 * tenant's → 403 (the admin token and development mode reach every tenant).
 */
export async function authenticate(
  token: string | undefined,
  env: AuthEnv,
  role: Role,
  scope: AuthScope = {},
): Promise<Caller> {
  const config = authConfig(env);
  if (config.dev) return { role: "admin", dev: true };
  if (role === "public") return { role: "public" };
  if (role === "admin" && !config.adminToken) throw new ActorError("NOT_FOUND", "no such route");
  if (token && config.adminToken && (await sameSecret(token, config.adminToken)))
    return { role: "admin", dev: false };
  if (!token) throw unauthorized("a bearer token is required");
  const user = await verifyUser(token, config);
  if (role === "admin") throw new ActorError("FORBIDDEN", "this route needs the admin token");
  if (scope.tenant !== undefined) checkTenant(user, scope.tenant);
  return user;
}

/** A tenant's routes take only that tenant's tokens. */
function checkTenant(user: Caller & { role: "user" }, tenant: string): void {
  if (user.tenant === undefined)
    throw unauthorized("the token names no tenant (a `tenant` claim is required)");
  if (user.tenant !== tenant) throw new ActorError("FORBIDDEN", "this token is for another tenant");
}

/** The bearer token of a request; on a WebSocket upgrade `?token=` is accepted too (browsers cannot set headers). */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : "";
  }
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket")
    return new URL(request.url).searchParams.get("token") ?? undefined;
  return undefined;
}

async function verifyUser(token: string, config: AuthConfig): Promise<Caller & { role: "user" }> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized("the token is malformed");
  }
  let payload: JWTPayload;
  try {
    if (alg && HS_ALGORITHMS.includes(alg) && config.secret)
      payload = (await jwtVerify(token, config.secret, verifyOptions(HS_ALGORITHMS))).payload;
    else if (alg && JWKS_ALGORITHMS.includes(alg) && config.jwks)
      payload = (await jwtVerify(token, config.jwks, verifyOptions(JWKS_ALGORITHMS))).payload;
    else throw unauthorized(`tokens signed with ${alg ?? "no algorithm"} are not accepted`);
  } catch (err) {
    if (err instanceof ActorError) throw err;
    const code = (err as { code?: unknown }).code;
    throw unauthorized(code === "ERR_JWT_EXPIRED" ? "the token has expired" : "the token is not valid");
  }
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 128)
    throw unauthorized("the token has no subject");
  const tenant = typeof payload.tenant === "string" ? payload.tenant : undefined;
  return { role: "user", userId: payload.sub, ...(tenant ? { tenant } : {}), claims: payload };
}

function verifyOptions(algorithms: string[]) {
  return { algorithms, clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ["sub", "exp"] };
}

function keySet(value: string): JWTVerifyGetKey {
  if (/^https:\/\//i.test(value)) return createRemoteJWKSet(new URL(value));
  try {
    return createLocalJWKSet(JSON.parse(value));
  } catch {
    throw new ActorError("INVALID_CONFIG", "AUTH_JWKS must be a JSON key set or an https URL");
  }
}

type WorkersSubtle = SubtleCrypto & { timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean };

/** Compare secrets in constant time (both hashed first, so lengths do not leak). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const encode = (s: string) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  const [a, b] = await Promise.all([encode(given), encode(expected)]);
  // workerd's own method (the cast: the DOM lib of web/tsconfig.json, which checks this file too, lacks it).
  return (crypto.subtle as WorkersSubtle).timingSafeEqual(a, b);
}

function unauthorized(message: string): ActorError {
  return new ActorError("UNAUTHORIZED", message);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
