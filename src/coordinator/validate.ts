import type { Context } from "hono";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { ActorError } from "../errors";
import { FAIL, fastParser } from "./fast-parse";

// zod/mini ships no messages ("Invalid input" for everything): use the English ones (~5 KB).
z.config(en());

/** Names of actors in URLs (`:tenant`, `:sku`, …): never `.` or `..`, which URL handling rewrites. */
export const NAME_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._-]{1,128}$/;

export function actorName(value: string | undefined, what = "name"): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value))
    throw new ActorError(
      "INVALID_NAME",
      `${what} must be 1-128 characters of A-Z a-z 0-9 . _ - (not . or ..)`,
    );
  return value;
}

/**
 * Check `value` against a zod/mini schema; a failure is a 400 naming the first bad field. A valid
 * input is answered by the schema's closure (fast-parse.ts: zod cannot compile itself in workerd);
 * anything else, and every error, by zod.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const fast = fastParser(schema);
  if (fast) {
    const parsed = fast(value);
    if (parsed !== FAIL) return parsed as z.infer<S>;
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  throw new ActorError(
    "VALIDATION_FAILED",
    first ? `${first.path || "input"}: ${first.message}` : "invalid input",
    { issues },
  );
}

/** A query-string integer as a number; anything else stays a string so validation names it. */
export function integerParam(value: string | undefined): number | string | undefined {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : value;
}

/** A WebSocket route: anything but an upgrade request is a 426 `UPGRADE_REQUIRED`. */
export function requireUpgrade(c: Context): void {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    throw new ActorError("UPGRADE_REQUIRED", "this route is a WebSocket");
}

/** Read the request body as JSON (400 `INVALID_JSON` when it is not), then validate it. */
export async function readJson<S extends z.ZodMiniType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    const text = await c.req.text();
    body = JSON.parse(text);
  } catch {
    throw new ActorError("INVALID_JSON", "request body must be valid JSON");
  }
  return parseInput(schema, body);
}
