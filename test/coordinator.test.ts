import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { createCoordinator } from "../src/coordinator/index";
import { actorName, type ErrorBody } from "../src/index";
import { mounts } from "../worker";

const call = (path: string, init?: RequestInit) => exports.default.fetch(`http://coordinator${path}`, init);
const post = (path: string, body: string) =>
  call(path, { method: "POST", body, headers: { "content-type": "application/json" } });

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

describe("coordinator", () => {
  it("answers GET /health", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("routes to the named actor through a typed stub", async () => {
    const created = await post("/fixtures/route-a/notes", JSON.stringify({ body: "hi" }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const list = await call("/fixtures/route-a/notes");
    expect(await list.json()).toEqual([{ id, body: "hi" }]);
    // Same data through the binding directly: the route reached the actor named in the URL.
    expect(await env.FIXTURE.getByName("route-a").listNotes()).toEqual([{ id, body: "hi" }]);
  });

  it("unknown route → 404 NOT_FOUND", async () => {
    await expectError(await call("/nope"), 404, "NOT_FOUND");
    await expectError(await call("/fixtures/a/notes", { method: "DELETE" }), 404, "NOT_FOUND");
  });

  it("a trailing slash is another path: /health/ and /inventory/sku-1/status/ match no route", async () => {
    await expectError(await call("/health/"), 404, "NOT_FOUND");
    await expectError(await call("/inventory/sku-1/status/"), 404, "NOT_FOUND");
    expect((await call("/health")).status).toBe(200);
  });

  it("routes with TrieRouter alone, the router hono's default SmartRouter settles on for these routes", () => {
    // src/coordinator/hono.ts: SmartRouter tries RegExpRouter first, which refuses our routes.
    const app = createCoordinator(mounts);
    const smart = new SmartRouter<unknown>({ routers: [new RegExpRouter(), new TrieRouter()] });
    for (const r of app.routes) smart.add(r.method, r.path, r.handler);
    smart.match("GET", "/health");
    expect(smart.activeRouter.name).toBe("TrieRouter");
    expect(app.router.name).toBe("TrieRouter");
  });

  it("invalid actor names → 400 INVALID_NAME", async () => {
    for (const name of ["has space", "x".repeat(129), "semi;colon", "%00", "caf%C3%A9"]) {
      await expectError(await call(`/fixtures/${name}/notes`), 400, "INVALID_NAME");
    }
    expect((await call(`/fixtures/${"x".repeat(128)}/notes`)).status).toBe(200);
  });

  it("malformed JSON → 400 INVALID_JSON, and nothing is written", async () => {
    await expectError(await post("/fixtures/json/notes", "{not json"), 400, "INVALID_JSON");
    await expectError(await post("/fixtures/json/notes", ""), 400, "INVALID_JSON");
    expect(await env.FIXTURE.getByName("json").listNotes()).toEqual([]);
  });

  it("invalid fields → 400 VALIDATION_FAILED naming the field", async () => {
    const res = await post("/fixtures/fields/notes", JSON.stringify({ body: 42 }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.message).toContain("body");
    // Real reasons, not zod/mini's bare "Invalid input".
    expect(body.error.message).toMatch(/expected string/i);
    expect(await env.FIXTURE.getByName("fields").listNotes()).toEqual([]);
  });

  it("a body over 1 MiB → 413 PAYLOAD_TOO_LARGE, and nothing is written", async () => {
    const big = JSON.stringify({ body: "x".repeat(1024 * 1024 + 1) });
    await expectError(await post("/fixtures/big/notes", big), 413, "PAYLOAD_TOO_LARGE");
    expect(await env.FIXTURE.getByName("big").listNotes()).toEqual([]);
    const justUnder = JSON.stringify({ body: "x".repeat(1000) });
    expect((await post("/fixtures/big/notes", justUnder)).status).toBe(201);
  });

  it("an actor reset mid-call → 503 ACTOR_UNAVAILABLE with Retry-After, and the actor serves again", async () => {
    const res = await call("/fixtures/reset/abort", { method: "POST" });
    expect(res.headers.get("retry-after")).toBe("1");
    await expectError(res, 503, "ACTOR_UNAVAILABLE");
    expect((await post("/fixtures/reset/notes", JSON.stringify({ body: "after" }))).status).toBe(201);
  });

  it("an ActorError thrown inside the actor maps to its status and code", async () => {
    const res = await post("/fixtures/empty/notes", JSON.stringify({ body: "" }));
    await expectError(res, 400, "VALIDATION_FAILED");
  });

  it("a state-changing request must carry JSON: text/plain, forms and multipart → 415, nothing written", async () => {
    const form = new FormData();
    form.set("body", "from a form");
    const attempts: RequestInit[] = [
      { method: "POST", body: JSON.stringify({ body: "plain" }) }, // fetch labels a string text/plain
      { method: "POST", body: "body=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
      { method: "POST", body: form },
      { method: "POST", body: JSON.stringify({ body: "x" }), headers: { "content-type": "text/json" } },
    ];
    for (const init of attempts)
      await expectError(await call("/fixtures/ctype/notes", init), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect(await env.FIXTURE.getByName("ctype").listNotes()).toEqual([]);
    const json = { "content-type": "application/json; charset=utf-8" };
    expect(
      (await call("/fixtures/ctype/notes", { method: "POST", body: '{"body":"ok"}', headers: json })).status,
    ).toBe(201);
  });

  it("names . and .. are refused, in paths and in bodies", async () => {
    // URL parsing already folds "." and ".." segments (also percent-encoded) away: never a name.
    for (const name of ["%2E", "%2E%2E", ".%2E"])
      expect((await call(`/fixtures/${name}/notes`)).status).toBe(404);
    for (const name of [".", ".."]) expect(() => actorName(name)).toThrow(/not \. or \.\./);
    const items = [{ sku: "..", quantity: 1, unitPrice: 1 }];
    for (const body of [
      { orderId: "..", customerId: "c", items: [{ sku: "a", quantity: 1, unitPrice: 1 }] },
      { orderId: "fine", customerId: "c", items },
    ])
      await expectError(await post("/checkout", JSON.stringify(body)), 400, "VALIDATION_FAILED");
    expect((await call("/fixtures/.x./notes")).status).toBe(200);
    expect((await call("/fixtures/.../notes")).status).toBe(200);
  });

  it("state-at refuses a time in the future", async () => {
    const name = `future-${Date.now()}`;
    await env.INVENTORY_SKU.getByName(name).restock({ quantity: 1 });
    const future = Date.now() + 3_600_000;
    for (const t of [String(future), new Date(future).toISOString()]) {
      const res = await call(`/inventory/${name}/state-at?timestamp=${encodeURIComponent(t)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/future/);
    }
    expect((await call(`/inventory/${name}/state-at?timestamp=${Date.now()}`)).status).toBe(200);
    // The actor refuses it too, for its RPC callers.
    const refused = await env.INVENTORY_SKU.getByName(name)
      .stateAt(future)
      .then(
        () => undefined,
        (err: unknown) => String(err),
      );
    expect(refused).toMatch(/future/);
  });

  it("every path outside the API answers JSON: 405 for other methods (POST /), 404 for unknown GETs", async () => {
    const root = await call("/", { method: "POST", headers: { "content-length": "0" } });
    expect(root.headers.get("allow")).toBe("GET, HEAD");
    await expectError(root, 405, "METHOD_NOT_ALLOWED");
    await expectError(await call("/index.html", { method: "DELETE" }), 405, "METHOD_NOT_ALLOWED");
    await expectError(await call("/no/such/page"), 404, "NOT_FOUND");
    await expectError(await call("/orders", { method: "PUT" }), 404, "NOT_FOUND");
  });

  it("an unexpected error is logged with a trace id and answered as a generic INTERNAL, without its text", async () => {
    const res = await call("/fixtures/x/crash", { method: "POST" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("INTERNAL");
    expect(JSON.stringify(body)).not.toMatch(/secret|hunter2|srv/);
    const traceId = body.error.details?.traceId as string;
    expect(traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-trace-id")).toBe(traceId);
  });

  it("the coordinator refuses to mount a route that declares no role", async () => {
    const { Hono } = await import("hono");
    const { createCoordinator } = await import("../src/index");
    const open = new Hono().get("/x", (c) => c.text("open"));
    expect(() => createCoordinator([{ path: "/", app: open as never }])).toThrow(/without a role.*GET \/x/);
  });
});
