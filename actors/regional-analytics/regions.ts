import { quietStub } from "../../src/quiet";
import { regionNotFound } from "./errors";

/**
 * Residency: each region is one RegionalAnalytics actor named after it, created near its users
 * (a location hint) and, for `eu`, in the EU jurisdiction namespace, so its storage stays in the EU.
 */
export const REGIONS = {
  us: { locationHint: "enam" },
  eu: { locationHint: "weur", jurisdiction: "eu" },
  apac: { locationHint: "apac" },
} as const satisfies Record<
  string,
  { locationHint: DurableObjectLocationHint; jurisdiction?: DurableObjectJurisdiction }
>;
export type Region = keyof typeof REGIONS;

/** `request.cf.continent` to a region: Europe and Africa → eu, Asia and Oceania → apac, the rest (and none) → us. */
const BY_CONTINENT: Record<string, Region> = {
  EU: "eu",
  AF: "eu",
  AS: "apac",
  OC: "apac",
  NA: "us",
  SA: "us",
  AN: "us",
};

/** The region a route's `:region` names (`auto`: from the request's continent); REGION_NOT_FOUND otherwise. */
export function regionOf(param: string | undefined, request: Request): Region {
  if (param === "auto") {
    const continent = (request as { cf?: { continent?: unknown } }).cf?.continent;
    return (typeof continent === "string" && BY_CONTINENT[continent]) || "us";
  }
  if (param !== undefined && Object.hasOwn(REGIONS, param)) return param as Region;
  throw regionNotFound(param ?? "");
}

let fallbackLogged = false;

/**
 * The namespace a region's actor lives in: the EU jurisdiction's for `eu`. Local workerd (wrangler
 * dev, vitest) throws "Jurisdiction restrictions are not implemented in workerd." there: only that
 * error falls back to the plain namespace (logged once), so a deployed Worker never silently loses
 * residency.
 */
export function regionNamespace(
  ns: DurableObjectNamespace<import("./regional-analytics").RegionalAnalytics>,
  region: Region,
): DurableObjectNamespace<import("./regional-analytics").RegionalAnalytics> {
  const jurisdiction = (REGIONS[region] as { jurisdiction?: DurableObjectJurisdiction }).jurisdiction;
  if (!jurisdiction) return ns;
  try {
    return ns.jurisdiction(jurisdiction);
  } catch (error) {
    if (!/not implemented in workerd/i.test(String((error as Error)?.message))) throw error;
    if (!fallbackLogged) {
      fallbackLogged = true;
      console.warn(
        `dosql-actors: this runtime has no Durable Object jurisdictions (local workerd): region ${region} uses the plain namespace`,
      );
    }
    return ns;
  }
}

/** The stub of a region's actor, with its location hint, in its jurisdiction. */
export function regionStub(
  env: { REGIONAL_ANALYTICS: DurableObjectNamespace<import("./regional-analytics").RegionalAnalytics> },
  region: Region,
) {
  return quietStub(
    regionNamespace(env.REGIONAL_ANALYTICS, region).getByName(region, {
      locationHint: REGIONS[region].locationHint,
    }),
  );
}
