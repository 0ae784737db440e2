import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ActorError } from "../errors";
import { toErrorResponse } from "./errors";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface Mount<E extends object> {
  path: string;
  app: Hono<{ Bindings: E }>;
}

/**
 * The coordinator Worker: error mapping, body limit, health, 404, and each actor's sub-app
 * mounted at its path. Actors' routes stay in their own folders.
 */
export function createCoordinator<E extends object>(mounts: Mount<E>[] = []): Hono<{ Bindings: E }> {
  const app = new Hono<{ Bindings: E }>();
  app.onError((err, c) => toErrorResponse(c, err));
  app.notFound((c) =>
    toErrorResponse(c, new ActorError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)),
  );
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
  app.get("/health", (c) => c.json({ ok: true }));
  for (const mount of mounts) app.route(mount.path, mount.app);
  return app;
}
