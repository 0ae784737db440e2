import { allow } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import { parseInput } from "../../src/coordinator/validate";
import { metricsInput } from "./inputs";
import { emptyMetrics, resolveRange } from "./results";

/** The name of the one GlobalAnalytics actor (the regions' forward target). */
const GLOBAL = "global";

/** `GET /analytics/global/metrics?from=&to=&event_type=` (public): per-region and total figures. */
export const globalAnalyticsRoutes = new Hono<{ Bindings: Env }>();

globalAnalyticsRoutes.get("/analytics/global/metrics", allow("public"), async (c) => {
  const input = parseInput(metricsInput, {
    from: c.req.query("from"),
    to: c.req.query("to"),
    eventType: c.req.query("event_type"),
  });
  if (!(await isKnown(c.env, "analytics", GLOBAL))) {
    const { from, to } = resolveRange(input, Date.now());
    return c.json(emptyMetrics(from, to));
  }
  return c.json(await actorStub(c.env.GLOBAL_ANALYTICS, GLOBAL).metrics(input));
});

/**
 * `GET /analytics/global/columns` (public): the tables and columns the global actor stores, read
 * from its SQLite (no rows), so anyone can check that no PII column exists. Before any region has
 * synced: no tables, without creating the actor.
 */
globalAnalyticsRoutes.get("/analytics/global/columns", allow("public"), async (c) => {
  if (!(await isKnown(c.env, "analytics", GLOBAL))) return c.json({ tables: [] });
  return c.json(await actorStub(c.env.GLOBAL_ANALYTICS, GLOBAL).columns());
});
