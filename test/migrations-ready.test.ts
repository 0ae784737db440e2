import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ActorError, type MigrationBundle } from "../src/index";
import { type MigratingActor, migrationCase } from "./fixtures/migration-actors";

// A half-migrated actor (its newest migration failed and was rolled back) must refuse at every
// entry point: RPC methods, fetch, WebSocket connects and frames of sockets accepted before the
// deploy, alarms, `this.db` and `this.database`.

const v1: MigrationBundle = {
  journal: { entries: [{ idx: 0, tag: "0000_seen", when: 1 }] },
  migrations: { m0000: "CREATE TABLE `seen` (`id` integer PRIMARY KEY, `note` text)" },
};
const broken: MigrationBundle = {
  journal: { entries: [...v1.journal!.entries, { idx: 1, tag: "0001_broken", when: 2 }] },
  migrations: { ...v1.migrations, m0001: "ALTER TABLE `seen` ADD COLUMN `x` nonsense syntax here (" },
};

let seq = 0;
type Stub = DurableObjectStub<MigratingActor>;

afterEach(() => {
  migrationCase.current = { migrations: {} };
});

async function seenRows(stub: Stub): Promise<number> {
  return runInDurableObject(stub, (_actor, state) =>
    Number(state.storage.sql.exec("SELECT count(*) AS n FROM seen").one().n),
  );
}

async function socket(stub: Stub) {
  const res = await stub.fetch("http://actor/ws", { headers: { Upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const frames: Record<string, unknown>[] = [];
  ws.addEventListener("message", (event: MessageEvent) => frames.push(JSON.parse(String(event.data))));
  return { ws, frames };
}

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return ActorError.from(err)?.code ?? String(err);
  }
  return undefined;
}

describe("a half-migrated actor refuses at every entry point", () => {
  it("frames of a socket accepted before the deploy are refused and write nothing", async () => {
    migrationCase.current = v1;
    const stub = env.MIGRATING.getByName(`ready-ws-${seq++}`);
    const { ws, frames } = await socket(stub);
    ws.send(JSON.stringify({ note: "before" }));
    await vi.waitFor(() => expect(frames).toContainEqual({ type: "stored", note: "before" }));
    expect(await seenRows(stub)).toBe(1);

    migrationCase.current = broken;
    await evictDurableObject(stub);
    ws.send(JSON.stringify({ note: "after" }));
    await vi.waitFor(() => expect(frames.some((f) => f.type === "error")).toBe(true));
    expect(frames.find((f) => f.type === "error")).toMatchObject({ code: "MIGRATION_FAILED" });
    expect(frames).not.toContainEqual({ type: "stored", note: "after" });
    expect(await seenRows(stub)).toBe(1);
    ws.close();
  });

  it("RPC, fetch, new sockets, this.db, this.database and alarms all refuse", async () => {
    migrationCase.current = v1;
    const stub = env.MIGRATING.getByName(`ready-all-${seq++}`);
    // A task scheduled while healthy (not due during the test: the alarm is called directly below).
    await runInDurableObject(stub, (actor) => {
      actor.schedule.at(Date.now() + 600_000, "writeWithDb" as never, "seen" as never);
    });
    migrationCase.current = broken;
    await evictDurableObject(stub);

    expect(await codeOf(() => stub.writeWithDb("seen"))).toBe("MIGRATION_FAILED");
    const res = await stub.fetch("http://actor/anything");
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("MIGRATION_FAILED");
    const upgrade = await stub.fetch("http://actor/ws", { headers: { Upgrade: "websocket" } });
    expect(upgrade.status).toBe(500);
    expect(upgrade.webSocket).toBeFalsy();
    expect(((await upgrade.json()) as { error: { code: string } }).error.code).toBe("MIGRATION_FAILED");
    const inside = await runInDurableObject(stub, async (actor) => ({
      db: await codeOf(() => actor.db.run("INSERT INTO seen (note) VALUES ('db')" as never)),
      database: await codeOf(() => actor.database.run("INSERT INTO seen (note) VALUES ('database')")),
      alarm: await codeOf(() => actor.alarm()),
    }));
    expect(inside).toEqual({
      db: "MIGRATION_FAILED",
      database: "MIGRATION_FAILED",
      alarm: "MIGRATION_FAILED",
    });
    expect(await seenRows(stub)).toBe(0);

    // The fixed deploy serves again.
    migrationCase.current = v1;
    await evictDurableObject(stub);
    expect(await codeOf(() => stub.writeWithDb("seen"))).toBeUndefined();
    expect(await seenRows(stub)).toBe(1);
  });
});
