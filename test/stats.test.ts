import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";

let seq = 0;
const name = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;

describe("stats()", () => {
  it("reports database size, rows per table, schema version and schedules (due, failed)", async () => {
    const stub = env.SCHEDULED.getByName(name("stats"));
    const empty = await stub.stats();
    expect(empty.schemaVersion).toBe("0000_runs");
    // The actor's own tables; the framework's, the runtime's and SQLite's are listed apart.
    expect(empty.tables).toEqual({ runs: 0 });
    expect(empty.internalTables).toMatchObject({ _dosql_migrations: 1, _dosql_schedules: 0 });
    for (const table of Object.keys(empty.internalTables))
      expect(table).toMatch(/^(_dosql_|_cf_|__miniflare_|sqlite_)/);
    expect(empty.schedules).toEqual({
      total: 0,
      scheduled: 0,
      due: 0,
      running: 0,
      failed: 0,
      nextRunAt: null,
    });
    expect(empty.connections).toEqual({ total: 0, users: 0, topics: {} });
    expect(empty.databaseBytes).toBeGreaterThan(0);

    await runInDurableObject(stub, (actor) => {
      for (let i = 0; i < 200; i++) actor.record({ i, text: "some text to take room ".repeat(10) });
      actor.schedule.at(0, "failAlways", "x", { maxAttempts: 1 });
    });
    await vi.waitFor(async () => expect((await stub.stats()).schedules.failed).toBe(1), { timeout: 5_000 });

    const at = await runInDurableObject(stub, (actor) => {
      const later = actor.schedule.at(60_000, "tick");
      actor.schedule.at(0, "tick"); // due now; the alarm cannot run while this call holds the object
      return { later: later.nextRunAt, stats: actor.stats() };
    });
    expect(at.stats.tables.runs).toBe(201);
    expect(at.stats.internalTables._dosql_schedules).toBe(3);
    expect(at.stats.schedules).toMatchObject({ total: 3, scheduled: 2, due: 1, running: 0, failed: 1 });
    expect(at.stats.schedules.nextRunAt).toBeLessThanOrEqual(Date.now());
    expect(at.stats.databaseBytes).toBeGreaterThan(empty.databaseBytes);
  });

  it("reports connections, distinct users and subscribers per topic", async () => {
    const stub = env.CHAT_ROOM.getByName(name("stats-ws"));
    const open = async (id: string, query: string) => {
      const res = await stub.fetch(`http://room/ws?_pk=${id}&${query}`, {
        headers: { Upgrade: "websocket" },
      });
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      return res.webSocket!;
    };
    await open("a1", "userId=alice&topics=news,sports");
    await open("a2", "userId=alice&topics=news");
    const bob = await open("b1", "userId=bob");
    await open("anon", "");
    const stats = await stub.stats();
    expect(stats.connections).toEqual({ total: 4, users: 2, topics: { news: 2, sports: 1 } });
    expect(stats.tables).toMatchObject({ said: 0, frames: 0 });

    bob.close(1000);
    await vi.waitFor(async () => expect((await stub.stats()).connections.total).toBe(3), { timeout: 5_000 });
  });

  it("keeps the runtime's and the framework's tables out of tables, listed apart", async () => {
    const stub = env.HISTORY.getByName(name("stats-internal"));
    await runInDurableObject(stub, async (_actor, state) => {
      await state.storage.put("key", "value"); // workerd's own _cf_KV table
    });
    const stats = await stub.stats();
    const own = Object.keys(stats.tables);
    expect(own.length).toBeGreaterThan(0);
    for (const table of own) expect(table).not.toMatch(/^(_dosql_|_cf_|__miniflare_|sqlite_)/);
    expect(stats.internalTables).toHaveProperty("_cf_KV", null); // SQL may not read it (SQLITE_AUTH)
    expect(Object.keys(stats.internalTables).some((t) => t.startsWith("_dosql_history"))).toBe(true);
    expect(stats.internalTables._dosql_migrations).toBeGreaterThan(0);
  });
});
