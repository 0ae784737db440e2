import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/index";

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
});
