import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ActorError } from "../src/index";

// The README's quick start (examples/notes) works as written: drizzle-kit migrations, RPC, typed errors.
describe("examples/notes", () => {
  it("adds and counts notes over an RPC stub", async () => {
    const stub = env.EXAMPLE_NOTES.getByName("readme");
    const note = await stub.add("first");
    expect(note).toEqual({ id: 1, body: "first" });
    await stub.add("second");
    expect(await stub.count()).toBe(2);
  });

  it("answers bad input with a typed error", async () => {
    const err = await env.EXAMPLE_NOTES.getByName("readme-bad")
      .add("")
      .catch((e) => e);
    expect(ActorError.from(err)?.code).toBe("VALIDATION_FAILED");
    expect(await env.EXAMPLE_NOTES.getByName("readme-bad").count()).toBe(0);
  });
});
