import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { HistoryFkActor } from "./fixtures/history-fk";

// Archiving a tracked table deletes its archived rows: under history those deletes are one
// transaction of their own (actor "archive"), never folded into the next write of the actor,
// so `undo` of that next write can never bring archived rows back.
const fresh = () => env.HISTORY_FK.getByName(`archive-${Date.now()}-${Math.random()}`);
const DAY = 86_400_000;

describe("archive under history", () => {
  it("records the archive's deletes as their own transaction", async () => {
    const stub = fresh();
    const old = Date.UTC(2026, 0, 1);
    await runInDurableObject(stub, (a: HistoryFkActor) => {
      a.transaction(() => {
        for (let i = 1; i <= 3; i++)
          a.query("INSERT INTO notes (id, body, at) VALUES (?, ?, ?)", [i, `n${i}`, old + i]);
      });
    });
    const done = await runInDurableObject(stub, (a: HistoryFkActor) =>
      a.tiering.archive({ table: "notes", timeColumn: "at", olderThan: old + 10 * DAY, partition: "day" }),
    );
    expect(done.done).toBe(true);
    await runInDurableObject(stub, (a: HistoryFkActor) => {
      a.transaction(() =>
        a.query("INSERT INTO notes (id, body, at) VALUES (?, ?, ?)", [4, "later", Date.now()]),
      );
    });
    const changes = await runInDurableObject(
      stub,
      (a: HistoryFkActor) => a.history.changes({ tables: ["notes"] }).changes,
    );
    const deletes = changes.filter((c) => c.op === "delete");
    const later = changes.find((c) => c.op === "insert" && (c.after as { id: number }).id === 4);
    expect(deletes.map((c) => (c.before as { id: number }).id)).toEqual([1, 2, 3]);
    expect(new Set(deletes.map((c) => c.tx)).size).toBe(1);
    expect(later).toBeDefined();
    expect(deletes[0].tx).not.toBe(later!.tx);
    // Undo of the later write removes only its own row.
    await runInDurableObject(stub, (a: HistoryFkActor) => a.undo(later!.tx));
    const left = await runInDurableObject(stub, (a: HistoryFkActor) => a.query("SELECT id FROM notes"));
    expect(left).toEqual([]);
  });
});
