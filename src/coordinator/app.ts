import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ActorError } from "../errors";
import { allow, routesWithoutRole } from "./access";
import { toErrorResponse } from "./errors";
import { Hono } from "./hono";

export const MAX_BODY_BYTES = 1024 * 1024;

ActorError.defineStatus("UNSUPPORTED_MEDIA_TYPE", 415);
ActorError.defineStatus("METHOD_NOT_ALLOWED", 405);

export interface Mount<E extends object> {
  path: string;
  app: Hono<{ Bindings: E }>;
}

/**
 * The coordinator Worker: error mapping, body limit, JSON-only bodies, health, 404/405, static
 * assets for every other GET, and each actor's sub-app mounted at its path. Actors' routes stay
 * in their own folders; each declares its role with `allow(role)` (refused at start-up if not).
 */
export function createCoordinator<E extends object>(mounts: Mount<E>[] = []): Hono<{ Bindings: E }> {
  const app = new Hono<{ Bindings: E }>();
  app.onError((err, c) => toErrorResponse(c, err));
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        toErrorResponse(
          c,
          new ActorError("PAYLOAD_TOO_LARGE", `request body exceeds ${MAX_BODY_BYTES} bytes`),
        ),
    }),
  );
  app.use("*", async (c, next) => {
    assertJsonBody(c);
    await next();
  });
  app.get("/health", allow("public"), (c) => c.json({ ok: true }));
  for (const mount of mounts) app.route(mount.path, mount.app);
  const missing = routesWithoutRole(app);
  if (missing.length)
    throw new ActorError("INVALID_CONFIG", `routes without a role (allow(...)): ${missing.join(", ")}`);
  const apiSegments = new Set(app.routes.map((r) => firstSegment(r.path)).filter((s) => s && s !== "*"));
  app.notFound((c) => notFound(c, apiSegments));
  return app;
}

/** A state-changing request carries JSON or nothing: a cross-site form (text/plain, urlencoded, multipart) → 415. */
function assertJsonBody(c: Context): void {
  const method = c.req.method;
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return;
  const type = c.req.header("content-type");
  // No type and no bytes (curl -X POST, fetch without a body): nothing to refuse.
  const length = c.req.header("content-length");
  const chunked = c.req.header("transfer-encoding") !== undefined;
  if (type === undefined && !chunked && (length === undefined || length === "0")) return;
  if (!/^application\/json\s*(;|$)/i.test(type ?? ""))
    throw new ActorError("UNSUPPORTED_MEDIA_TYPE", "request bodies must be application/json");
}

/**
 * No route: API paths answer 404; any other GET/HEAD is a static asset (the demo pages) when the
 * Worker has an ASSETS binding, and anything else is 405. Every answer is JSON.
 */
async function notFound(c: Context, apiSegments: Set<string>): Promise<Response> {
  const method = c.req.method;
  const api = apiSegments.has(firstSegment(c.req.path));
  if (!api && (method === "GET" || method === "HEAD")) {
    const assets = (c.env as { ASSETS?: Fetcher } | undefined)?.ASSETS;
    if (assets) {
      const asset = await assets.fetch(c.req.raw);
      if (asset.status !== 404) return asset;
    }
  } else if (!api) {
    c.header("Allow", "GET, HEAD");
    return toErrorResponse(
      c,
      new ActorError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${c.req.path}`),
    );
  }
  return toErrorResponse(c, new ActorError("NOT_FOUND", `no route for ${method} ${c.req.path}`));
}

function firstSegment(path: string): string {
  return path.split("/")[1] ?? "";
}
