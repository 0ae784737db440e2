import type { Context } from "hono";
import * as z from "zod/mini";
import { allow } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { rateLimit } from "../../src/coordinator/rate-limit";
import { parseInput, readJson } from "../../src/coordinator/validate";
import { regionEmpty } from "./errors";
import { historicalInput, ingestOptions, queryInput, RANGES } from "./inputs";
import { type Region, regionOf, regionStub } from "./regions";
import { emptyHistorical, emptyQuery, emptyRealtime, minuteOf } from "./results";

/**
 * `/analytics/:region/...` (public: ingest and reads) and `/admin/analytics/:region/sync` (admin).
 * `:region` is us, eu, apac, or auto (from `request.cf.continent`); anything else is 404 without
 * reaching an actor. Reads of a region that never received an event answer empty figures without
 * reaching (and so creating) its actor. Ingest is rate limited per client IP (ANALYTICS_INGEST_LIMIT);
 * an event without `ipAddress` / `userAgent` takes the request's (cf-connecting-ip, user-agent).
 */
export const regionalAnalyticsRoutes = new Hono<{ Bindings: Env }>();

type C = Context<{ Bindings: Env }>;

const region = (c: C): Region => regionOf(c.req.param("region"), c.req.raw);
const known = (c: C, r: Region) => isKnown(c.env, "analytics", r);

/** The body: one event or an array; `?partial=true` keeps the valid events of a batch. */
const body = z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]);

regionalAnalyticsRoutes.post(
  "/analytics/:region/ingest",
  allow("public"),
  rateLimit("ANALYTICS_INGEST_LIMIT"),
  async (c) => {
    const r = region(c);
    const input = await readJson(c, body);
    const options = parseInput(ingestOptions, { partial: booleanParam(c.req.query("partial")) });
    // An empty header is no value (a client may send `User-Agent:` with nothing after it).
    const ip = c.req.header("cf-connecting-ip") || undefined;
    const agent = c.req.header("user-agent") || undefined;
    const fill = (e: Record<string, unknown>) => ({
      ...e,
      ipAddress: e.ipAddress ?? ip,
      userAgent: e.userAgent ?? agent?.slice(0, 512),
    });
    const events = Array.isArray(input) ? input.map(fill) : fill(input);
    return c.json(await regionStub(c.env, r).ingest(events as never, options));
  },
);

regionalAnalyticsRoutes.get("/analytics/:region/query", allow("public"), async (c) => {
  const r = region(c);
  const input = parseInput(queryInput, { range: c.req.query("range"), eventType: c.req.query("event_type") });
  if (!(await known(c, r))) {
    const now = Date.now();
    const from = Date.parse(`${minuteOf(now - RANGES[input.range ?? "day"])}:00Z`);
    return c.json(emptyQuery(r, input.range ?? "day", from, now));
  }
  return c.json(await regionStub(c.env, r).queryRange(input));
});

regionalAnalyticsRoutes.get("/analytics/:region/realtime", allow("public"), async (c) => {
  const r = region(c);
  if (!(await known(c, r))) return c.json(emptyRealtime(r, Date.now()));
  return c.json(await regionStub(c.env, r).realtime());
});

regionalAnalyticsRoutes.get("/analytics/:region/historical", allow("public"), async (c) => {
  const r = region(c);
  const input = parseInput(historicalInput, {
    start: c.req.query("start"),
    end: c.req.query("end"),
    eventType: c.req.query("event_type"),
  });
  if (!(await known(c, r))) return c.json(emptyHistorical(r, input.start, input.end));
  return c.json(await regionStub(c.env, r).historical(input));
});

/** Run the region's rollup and its forward to GlobalAnalytics now (DESIGN.md §4). */
regionalAnalyticsRoutes.post("/admin/analytics/:region/sync", allow("admin"), async (c) => {
  const r = region(c);
  if (!(await known(c, r))) throw regionEmpty(r);
  return c.json(await regionStub(c.env, r).sync());
});

function booleanParam(value: string | undefined): boolean | string | undefined {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return value;
}
