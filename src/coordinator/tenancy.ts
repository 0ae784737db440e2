import type { Context } from "hono";
import { ActorError } from "../errors";
import { actorName } from "./validate";

/**
 * Where a request names its tenant (Use Case 1: "extract tenant ID from JWT / subdomain / path"):
 * - `path`: a route parameter (default `:tenant`, as in `/tenants/:tenant/users`);
 * - `subdomain`: the first label of the host (`acme.example.com` → `acme`); with `baseDomain`
 *   only hosts under it count, and `www` is never a tenant;
 * - `header`: `X-Tenant-ID` (or `header`).
 * Several sources are tried in order; the first that names a tenant wins. The token's `tenant`
 * claim is then checked against it (src/coordinator/auth.ts), never used instead of it.
 */
export type TenantSource = "path" | "subdomain" | "header";

export interface TenancyOptions {
  from?: TenantSource | readonly TenantSource[];
  /** The route parameter (default "tenant"). */
  param?: string;
  /** The header (default "X-Tenant-ID"). */
  header?: string;
  /** For `subdomain`: the domain tenants live under (`example.com`). */
  baseDomain?: string;
}

ActorError.defineStatus("TENANT_REQUIRED", 400);

/** The tenant a request names (a valid actor name), or 400. */
export function tenantOf(c: Context, options: TenancyOptions): string {
  const sources = typeof options.from === "string" ? [options.from] : (options.from ?? ["path"]);
  for (const source of sources) {
    const found = fromSource(c, source, options);
    if (found !== undefined) return actorName(found, "tenant");
  }
  throw new ActorError("TENANT_REQUIRED", `no tenant in the request (looked in: ${sources.join(", ")})`);
}

function fromSource(c: Context, source: TenantSource, options: TenancyOptions): string | undefined {
  if (source === "path") return c.req.param(options.param ?? "tenant") || undefined;
  if (source === "header") return c.req.header(options.header ?? "X-Tenant-ID") || undefined;
  return subdomain(new URL(c.req.url).hostname.toLowerCase(), options.baseDomain?.toLowerCase());
}

function subdomain(host: string, baseDomain: string | undefined): string | undefined {
  let label: string | undefined;
  if (baseDomain) {
    if (!host.endsWith(`.${baseDomain}`)) return undefined;
    const rest = host.slice(0, -baseDomain.length - 1);
    label = rest.includes(".") ? undefined : rest;
  } else {
    const labels = host.split(".");
    // An IP address or a bare domain names no tenant.
    label = labels.length >= 3 && !/^\d+$/.test(labels[labels.length - 1]) ? labels[0] : undefined;
  }
  return label && label !== "www" ? label : undefined;
}
