import type { Context, MiddlewareHandler } from "hono";
import { ActorError } from "../errors";
import { callerOf } from "./access";

ActorError.defineStatus("RATE_LIMITED", 429);

/**
 * Limit a route per caller and per client IP with a Workers rate-limiting binding
 * (`ratelimits` in wrangler config; local workerd emulates it, counting per key and period).
 * Put it after `allow(role)`, so the caller is known. Without the binding the route is unlimited.
 */
export function rateLimit(binding: string, options: { retryAfterSeconds?: number } = {}): MiddlewareHandler {
  return async (c, next) => {
    const limiter = (c.env as Record<string, unknown> | undefined)?.[binding] as RateLimit | undefined;
    if (limiter && typeof limiter.limit === "function") {
      const outcomes = await Promise.all(limitKeys(c).map((key) => limiter.limit({ key })));
      if (outcomes.some((o) => !o.success)) {
        c.header("Retry-After", String(options.retryAfterSeconds ?? 10));
        throw new ActorError("RATE_LIMITED", "too many requests; retry later");
      }
    }
    await next();
  };
}

/** One key for the caller (the token's subject) and one for the client's address (when the edge gives it). */
function limitKeys(c: Context): string[] {
  const caller = callerOf(c);
  const keys: string[] = [];
  const ip = c.req.header("cf-connecting-ip");
  if (ip) keys.push(`ip:${ip}`);
  if (caller.role === "user") keys.push(`user:${caller.userId}`);
  return keys;
}
