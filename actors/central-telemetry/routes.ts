import { allow } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import { integerParam, parseInput } from "../../src/coordinator/validate";
import { CENTRAL_NAME, rollupsInput } from "./inputs";

/**
 * `GET /central/buildings/rollups?from=&to=&sensor_type=&building=` (public): the buildings'
 * hourly figures. Before any building forwarded anything the answer is empty, and the central
 * actor is not reached (so not created).
 */
export const centralRoutes = new Hono<{ Bindings: Env }>();

centralRoutes.get("/central/buildings/rollups", allow("public"), async (c) => {
  const q = c.req.query();
  const input = parseInput(rollupsInput, {
    from: integerParam(q.from),
    to: integerParam(q.to),
    sensorType: q.sensor_type,
    building: q.building,
  });
  if (!(await isKnown(c.env, "central", CENTRAL_NAME))) return c.json({ rollups: [], truncated: false });
  return c.json(await actorStub(c.env.CENTRAL_TELEMETRY, CENTRAL_NAME).rollups(input));
});
