import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { cases, type MigratingTieredActor, migrationCase, upTo } from "./fixtures/migration-actors";

// Archived files keep the column and table names their rows had: a migration renaming either
// must not turn the archived values into NULLs (or lose the files) in unionQuery.

type Stub = DurableObjectStub<MigratingTieredActor>;
let seq = 0;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);
const READINGS: [string, string] = [
  "0000_readings",
  "CREATE TABLE `readings` (`id` integer PRIMARY KEY NOT NULL, `at` integer NOT NULL, `value` real);",
];

afterEach(() => {
  migrationCase.current = { migrations: {} };
});

async function deploy(stub: Stub, ...extra: [string, string][]): Promise<void> {
  migrationCase.current = upTo(cases.history, 0, READINGS, ...extra);
  await evictDurableObject(stub);
  await runInDurableObject(stub, (actor: MigratingTieredActor) => actor.schemaVersion());
}

/** Two readings archived (ids 1, 2: 1.5 and 2.5), one hot (id 3: 3.5). */
async function archived(): Promise<Stub> {
  migrationCase.current = upTo(cases.history, 0, READINGS);
  const stub = env.MIGRATING_TIERED.getByName(`rename-${Date.now()}-${seq++}`);
  await runInDurableObject(stub, async (actor: MigratingTieredActor) => {
    actor.run("INSERT INTO readings (id, at, value) VALUES (1, ?, 1.5), (2, ?, 2.5), (3, ?, 3.5)", [
      T0,
      T0 + DAY,
      Date.now(),
    ]);
    await actor.tiering.archive({ table: "readings", timeColumn: "at", olderThan: "1d", partition: "day" });
  });
  return stub;
}

const union = (stub: Stub, table: string, text: string) =>
  runInDurableObject(stub, (actor: MigratingTieredActor) => actor.tiering.unionQuery(table, text));

describe("archived rows across renames", () => {
  it("a renamed column reads the archived values under its new name", async () => {
    const stub = await archived();
    await deploy(stub, ["0001_rename", "ALTER TABLE `readings` RENAME COLUMN `value` TO `reading`;"]);
    expect(await union(stub, "readings", "SELECT id, reading FROM readings ORDER BY id")).toEqual([
      { id: 1, reading: 1.5 },
      { id: 2, reading: 2.5 },
      { id: 3, reading: 3.5 },
    ]);
    // Renamed again, and a column with the old name added: the old files' values stay with theirs.
    await deploy(
      stub,
      ["0001_rename", "ALTER TABLE `readings` RENAME COLUMN `value` TO `reading`;"],
      ["0002_again", "ALTER TABLE `readings` RENAME COLUMN `reading` TO `celsius`;"],
      ["0003_value", "ALTER TABLE `readings` ADD `value` real DEFAULT 0;"],
    );
    expect(await union(stub, "readings", "SELECT id, celsius, value FROM readings ORDER BY id")).toEqual([
      { id: 1, celsius: 1.5, value: 0 },
      { id: 2, celsius: 2.5, value: 0 },
      { id: 3, celsius: 3.5, value: 0 },
    ]);
  });

  it("a renamed table keeps its archived files", async () => {
    const stub = await archived();
    await deploy(stub, ["0001_rename", "ALTER TABLE `readings` RENAME TO `samples`;"]);
    expect(await union(stub, "samples", "SELECT id, value FROM samples ORDER BY id")).toEqual([
      { id: 1, value: 1.5 },
      { id: 2, value: 2.5 },
      { id: 3, value: 3.5 },
    ]);
  });
});
