import { env } from "cloudflare:test";
import { getAgentByName } from "agents";
import { describe, expect, it } from "vitest";
import { ActorError } from "../src/index";

// examples/agent-parts: the framework's parts inside an Agents SDK Agent (docs/agents.md).
describe("examples/agent-parts", () => {
  it("applyMigrations and Database run on the Agent's own storage, beside its tables", async () => {
    const agent = await getAgentByName(env.NOTES_AGENT, "parts-a");
    expect(await agent.schemaVersion()).toBe("0000_notes");
    expect(await agent.addNote("first")).toEqual({ id: 1, body: "first" });
    expect(await agent.listNotes()).toEqual([{ id: 1, body: "first" }]);
    const tables = await agent.tableNames();
    expect(tables).toEqual(expect.arrayContaining(["_dosql_migrations", "notes"]));
    expect(tables.some((name) => name.startsWith("cf_agents_"))).toBe(true);
  });

  it("answers bad input with a typed error and writes nothing", async () => {
    const agent = await getAgentByName(env.NOTES_AGENT, "parts-b");
    const err = await agent.addNote("  ").catch((e: unknown) => e);
    expect(ActorError.from(err)?.code).toBe("VALIDATION_FAILED");
    expect(await agent.listNotes()).toEqual([]);
  });

  it("the framework Scheduler does not compose: the Agent's re-arm drops its alarm", async () => {
    const agent = await getAgentByName(env.NOTES_AGENT, "parts-c");
    const { afterScheduler, afterAgent, pending } = await agent.alarmOwners();
    expect(afterScheduler).toBeGreaterThan(Date.now()); // armed for the Scheduler's task
    expect(pending).toBe(1); // the task is still there...
    expect(afterAgent).toBeNull(); // ...but the alarm that would run it is gone
  });
});
