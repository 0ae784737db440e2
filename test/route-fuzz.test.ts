import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createCoordinator } from "../src/coordinator/index";
import { mounts } from "../worker";

// Every route of the coordinator, called with bad input: it answers a typed error (4xx with
// {error:{code,message}}) or a success, never a 500 (a crash) and never a body that is not JSON.
const routes = [
  ...new Map(
    createCoordinator<Env>(mounts)
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => [`${r.method} ${r.path}`, r]),
  ).values(),
];
let seq = 0;
const fill = (path: string, value: (name: string) => string) =>
  path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => value(name));
const plain = (name: string) => (name === "region" ? "us" : `fuzz-${name}-${Date.now()}-${seq++}`);
const NAMES = ["x".repeat(2_000), "%00", "a%2Fb", "%2e%2e", "%F0%9F%92%A9", " ", "%FF"];
const BODIES = [
  "{",
  "null",
  "[]",
  "7",
  '"s"',
  "{}",
  '{"qty":1e999,"quantity":-1e999,"value":1e999,"timestamp":1e999,"limit":1e999}',
  '{"id":{},"sku":[],"name":true,"items":"x","events":{},"readings":7,"lines":null,"ops":"x","type":[]}',
  `{"a":${"[".repeat(3_000)}${"]".repeat(3_000)}}`,
  JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: { x: 1 } } }),
];
const QUERIES = [
  "?from=abc&to=1e999&limit=-1&offset=x&range=decade&eventType=%00&sensorId=&at=NaN",
  "?limit=1e999&from=-9007199254740993&to=9007199254740993&cursor=%FF%FE",
  "?from=1&from=2&limit=1&limit=abc",
];

async function probe(method: string, path: string, body?: string): Promise<string | undefined> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = body;
    init.headers = { "content-type": "application/json" };
  }
  let res: Response;
  try {
    res = await exports.default.fetch(`http://coordinator${path}`, init);
  } catch (err) {
    return `${method} ${path.slice(0, 120)} ${body?.slice(0, 60) ?? ""}: threw ${String(err)}`;
  }
  const text = await res.text();
  if (res.status === 101 || res.status === 426) return undefined;
  const where = `${method} ${path.slice(0, 120)} ${body?.slice(0, 60) ?? ""}`;
  if (res.status >= 500) return `${where}: ${res.status} ${text.slice(0, 200)}`;
  if (res.status >= 400) {
    try {
      const e = JSON.parse(text).error;
      if (typeof e?.code !== "string" || typeof e?.message !== "string")
        return `${where}: ${res.status} untyped ${text.slice(0, 200)}`;
    } catch {
      return `${where}: ${res.status} not JSON ${text.slice(0, 200)}`;
    }
  }
  return undefined;
}

describe("every coordinator route answers bad input with a typed error", () => {
  it("has routes to call", () => {
    expect(routes.length).toBeGreaterThan(40);
  });
  for (const route of routes) {
    it(`${route.method} ${route.path}`, async () => {
      const failures: string[] = [];
      const write = route.method !== "GET";
      for (const body of write ? BODIES : [undefined]) {
        const f = await probe(route.method, fill(route.path, plain), body);
        if (f) failures.push(f);
      }
      for (const q of QUERIES) {
        const f = await probe(route.method, fill(route.path, plain) + q, write ? "{}" : undefined);
        if (f) failures.push(f);
      }
      for (const name of NAMES) {
        const f = await probe(
          route.method,
          fill(route.path, () => name),
          write ? "{}" : undefined,
        );
        if (f) failures.push(f);
      }
      expect(failures).toEqual([]);
    }, 60_000);
  }
});
