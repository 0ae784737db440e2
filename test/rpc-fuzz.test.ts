import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  BuildingTelemetry,
  CentralTelemetry,
  CollaborativeDocument,
  GlobalAnalytics,
  InventorySKU,
  Order,
  RegionalAnalytics,
  TenantDB,
} from "../actors/index";
import { ActorError, SqlActor } from "../src/index";

// Every public RPC method of the prebuilt actors (and of SqlActor), called over a real stub with
// bad arguments: it succeeds or throws a typed ActorError, never an untyped error or INTERNAL.
const ACTORS: [keyof Env, { prototype: object }][] = [
  ["INVENTORY_SKU", InventorySKU],
  ["ORDER", Order],
  ["TENANT_DB", TenantDB],
  ["COLLABORATIVE_DOCUMENT", CollaborativeDocument],
  ["REGIONAL_ANALYTICS", RegionalAnalytics],
  ["GLOBAL_ANALYTICS", GlobalAnalytics],
  ["BUILDING_TELEMETRY", BuildingTelemetry],
  ["CENTRAL_TELEMETRY", CentralTelemetry],
];
/**
 * Runtime entry points and the hooks an actor overrides (`identify(request)`,
 * `canSubscribe(connection, topic)`: the runtime passes them its own objects), not methods a
 * caller passes arguments to.
 */
const SKIP = new Set([
  "constructor",
  "fetch",
  "alarm",
  "webSocketMessage",
  "webSocketClose",
  "webSocketError",
  "identify",
  "canSubscribe",
]);
function methodsOf(cls: { prototype: object }): string[] {
  const names = new Set<string>();
  for (let p = cls.prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (typeof d?.value === "function" && !SKIP.has(name) && !/^on[A-Z]/.test(name)) names.add(name);
    }
    if (p === SqlActor.prototype) break;
  }
  return [...names].sort();
}
const ARGS: unknown[][] = [
  [null],
  [{}],
  ["x"],
  [Number.NaN],
  [Number.POSITIVE_INFINITY],
  [-1],
  [[1, "a", null]],
  [{ a: { b: [1, 2] } }, { onConflict: 7, actor: {} }],
  [2n ** 70n],
  [new Date(Number.NaN)],
  ["x".repeat(100_000)],
];
let seq = 0;

describe("every public RPC method answers bad arguments with a typed error", () => {
  for (const [binding, cls] of ACTORS) {
    for (const method of methodsOf(cls)) {
      it(`${String(binding)}.${method}`, async () => {
        const failures: string[] = [];
        const ns = env[binding] as unknown as DurableObjectNamespace;
        for (const args of ARGS) {
          const stub = ns.getByName(`rpc-fuzz-${method}-${Date.now()}-${seq++}`) as unknown as Record<
            string,
            (...a: unknown[]) => Promise<unknown>
          >;
          try {
            await stub[method](...args);
          } catch (err) {
            const code = ActorError.from(err)?.code;
            if (code === undefined || code === "INTERNAL")
              failures.push(`${method}(${String(args[0]).slice(0, 30)}): ${String(err).slice(0, 200)}`);
          }
        }
        expect(failures).toEqual([]);
      }, 60_000);
    }
  }
});
