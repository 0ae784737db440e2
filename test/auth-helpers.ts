// Tokens and a secured coordinator for the auth tests: the same Worker, called with auth variables set.
import { env, listDurableObjectIds } from "cloudflare:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import coordinator from "./worker";

export const SECRET = "test-secret-for-hs256-0123456789abcdef";
export const ADMIN_TOKEN = "admin-token-0123456789abcdef";

const encode = (s: string) => new TextEncoder().encode(s);
const b64url = (s: string) => btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

/** An HS256 user token (valid for 5 minutes unless `exp` says otherwise). */
export function userToken(
  sub: string,
  options: { secret?: string; exp?: number; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(options.exp ?? now + 300)
    .sign(encode(options.secret ?? SECRET));
}

/** An unsigned token (`alg: none`) claiming to be `sub`. */
export function unsignedToken(sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify({ sub, exp: now + 300 }))}.`;
}

/** An ES256 key pair: the public half as AUTH_JWKS, the private half to sign with (`claims` such as `tenant`). */
export async function es256() {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const sign = (sub: string, claims: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject(sub)
      .setExpirationTime("5m")
      .sign(privateKey);
  return { jwks: JSON.stringify({ keys: [jwk] }), sign };
}

export type Vars = { AUTH_JWT_SECRET?: string; AUTH_JWKS?: string; ADMIN_TOKEN?: string };
export const SECURED: Vars = { AUTH_JWT_SECRET: SECRET, ADMIN_TOKEN };

/** Call the coordinator with these auth variables (the rest of the bindings as in the test Worker). */
export function secured(vars: Vars = SECURED) {
  const bindings = { ...env, ...vars } as Env;
  return async (
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    }
    return coordinator.fetch(new Request(`http://coordinator${path}`, { method, headers, body }), bindings, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
  };
}

/** The names (as ids) of every object of a namespace that has storage. */
export async function objectIds(ns: DurableObjectNamespace<any>): Promise<string[]> {
  return (await listDurableObjectIds(ns)).map((id) => id.toString()).sort();
}

export const idOf = (ns: DurableObjectNamespace<any>, name: string) => ns.idFromName(name).toString();
