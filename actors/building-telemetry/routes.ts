import type { Context } from "hono";
import * as z from "zod/mini";
import { allow, callerOf, socketCaller } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import {
  actorName,
  integerParam,
  parseInput,
  readJson,
  requireUpgrade,
} from "../../src/coordinator/validate";
import { ActorError } from "../../src/errors";
import { withCaller } from "../../src/rpc/caller";
import { buildingNotFound } from "./errors";
import {
  acknowledgeInput,
  batchInput,
  checkReading,
  historicalInput,
  queryInput,
  type ReadingInput,
  realtimeInput,
  ruleInput,
  ruleUpdateInput,
} from "./inputs";

/**
 * `/buildings/:b/...` and `/admin/buildings/:b/sync`: each route validates its input here and
 * calls the BuildingTelemetry actor named `:b`, which validates again for its RPC callers.
 * Roles (DESIGN.md §4): writes (ingest, rules, acknowledge) are `admin` (gateways and operators
 * hold the token); reads and the alerts socket are `public`; sync is `admin`. A building never
 * written answers 404 without being reached (ingest and rule creation create it).
 */
export const buildingRoutes = new Hono<{ Bindings: Env }>();

type C = Context<{ Bindings: Env }>;

/** The stub of a building that exists, or BUILDING_NOT_FOUND without reaching (and so creating) it. */
async function knownBuilding(c: C) {
  const building = actorName(c.req.param("b"), "building");
  if (!(await isKnown(c.env, "buildings", building))) throw buildingNotFound(building);
  return actorStub(c.env.BUILDING_TELEMETRY, building);
}

const anyBuilding = (c: C) => actorStub(c.env.BUILDING_TELEMETRY, actorName(c.req.param("b"), "building"));

buildingRoutes.post("/buildings/:b/ingest", allow("admin"), async (c) => {
  const reading = await readJson(c, z.unknown());
  const checked = checkReading(reading, Date.now());
  if ("path" in checked)
    throw new ActorError("VALIDATION_FAILED", `${checked.path || "reading"}: ${checked.message}`, {
      issues: [checked],
    });
  return c.json(await anyBuilding(c).ingest(reading as ReadingInput));
});

buildingRoutes.post("/buildings/:b/ingest-batch", allow("admin"), async (c) => {
  // Accepts an array or `{ readings: [...] }`; each reading is checked (with its index) by the actor.
  const body = await readJson(c, z.union([batchInput, z.object({ readings: batchInput })]));
  const readings = Array.isArray(body) ? body : body.readings;
  return c.json(await anyBuilding(c).ingestBatch(readings as never));
});

buildingRoutes.get("/buildings/:b/query", allow("public"), async (c) => {
  const q = c.req.query();
  const input = parseInput(queryInput, {
    sensorId: q.sensor_id,
    sensorType: q.sensor_type ?? q.type,
    hours: integerParam(q.hours),
    granularity: q.granularity,
  });
  return c.json(await (await knownBuilding(c)).queryAggregates(input));
});

buildingRoutes.get("/buildings/:b/realtime", allow("public"), async (c) => {
  const q = c.req.query();
  const input = parseInput(realtimeInput, {
    sensorType: q.sensor_type ?? q.type,
    minutes: integerParam(q.minutes),
  });
  return c.json(await (await knownBuilding(c)).realtime(input));
});

buildingRoutes.get("/buildings/:b/historical", allow("public"), async (c) => {
  const q = c.req.query();
  const input = parseInput(historicalInput, {
    start: integerParam(q.start),
    end: integerParam(q.end),
    sensorId: q.sensor_id,
  });
  return c.json(await (await knownBuilding(c)).historical(input));
});

/** The alerts socket: `init { alerts }`, then `alert`, `alert-acknowledged`, `alert-resolved` frames. */
buildingRoutes.get("/buildings/:b/alerts/ws", allow("public"), async (c) => {
  const stub = await knownBuilding(c);
  requireUpgrade(c);
  const who = await socketCaller(c.req.raw, c.env);
  return stub.fetch(withCaller(c.req.raw, who));
});

buildingRoutes.get("/buildings/:b/alerts/rules", allow("public"), async (c) =>
  c.json(await (await knownBuilding(c)).listRules()),
);

buildingRoutes.post("/buildings/:b/alerts/rules", allow("admin"), async (c) => {
  const rule = await readJson(c, ruleInput);
  return c.json(await anyBuilding(c).createRule(rule), 201);
});

buildingRoutes.patch("/buildings/:b/alerts/rules/:id", allow("admin"), async (c) => {
  const changes = await readJson(c, z.record(z.string(), z.unknown()));
  const input = parseInput(ruleUpdateInput, { ...changes, id: integerParam(c.req.param("id")) });
  return c.json(await (await knownBuilding(c)).updateRule(input));
});

buildingRoutes.get("/buildings/:b/alerts/active", allow("public"), async (c) =>
  c.json(await (await knownBuilding(c)).activeAlerts()),
);

/**
 * The acknowledger is the verified caller: the admin token names no user, so "admin"; in
 * development mode (identity from the request, DESIGN.md §4) the body's `userId`.
 */
buildingRoutes.post("/buildings/:b/alerts/acknowledge", allow("admin"), async (c) => {
  const { alertId, userId } = await readJson(c, acknowledgeInput);
  const caller = callerOf(c);
  const by = caller.role === "admin" && caller.dev ? userId : undefined;
  return c.json(await (await knownBuilding(c)).acknowledge({ alertId, userId: by ?? "admin" }));
});

buildingRoutes.post("/admin/buildings/:b/sync", allow("admin"), async (c) =>
  c.json(await (await knownBuilding(c)).sync()),
);
