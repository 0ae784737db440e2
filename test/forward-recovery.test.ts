import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ForwardBatch } from "../src/forward/index";
import { sinks, until } from "./forward-helpers";

describe("forward recovery: senders that share a name", () => {
  it("two sender classes whose instances share a name and forward name, into one receiver: both applied", async () => {
    const name = `shared-${Date.now()}`;
    // ForwardSource and BackedUpForwardSource both forward `mirror` to the sink `sink-<name>`.
    const first = env.FORWARD_SOURCE.getByName(name);
    const second = env.BACKED_UP_FORWARD.getByName(name);
    const { mirror } = sinks(name);
    // The first wakes first (its storage's epoch is the older), the second delivers first: by the
    // epochs alone, the first's batches would look stale, and each later one a reset of the other.
    expect(await first.pending("mirror")).toBe(0);
    expect(await second.pending("mirror")).toBe(0);
    for (let i = 11; i <= 13; i++) await second.add(i, `b${i}`, i, "s");
    await until(async () => (await second.pending("mirror")) === 0, "the second sender delivered");
    for (let i = 1; i <= 3; i++) await first.add(i, `a${i}`, i, "s");
    await until(async () => (await first.pending("mirror")) === 0, "the first sender delivered");
    const dump = await mirror.dump();
    // The second sender's LSNs 1-3 are not redeliveries of the first's.
    expect(dump.mirror.map((r) => r.id)).toEqual([1, 2, 3, 11, 12, 13]);
    expect(dump.received.filter((r) => r.forward === "mirror")).toHaveLength(6);
    // Each keeps its own applied record (by its Durable Object id).
    const ids = await Promise.all(
      [first, second].map((s) => runInDurableObject(s, (_a, ctx) => ctx.id.toString())),
    );
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) expect(await mirror.appliedBy(name, "mirror", id)).toBe(3);
  });
});

describe("forward recovery: a receiver whose applied record predates sourceId", () => {
  const batch = (over: Partial<ForwardBatch> = {}): ForwardBatch => ({
    source: "legacy-src",
    forward: "f",
    epoch: 100,
    after: 0,
    from: 1,
    to: 3,
    changes: [1, 2, 3].map((lsn) => ({
      lsn,
      tx: 1,
      at: 1,
      table: "items",
      op: "insert" as const,
      key: { id: lsn },
      before: null,
      after: { id: lsn, name: `n${lsn}`, qty: lsn },
    })),
    ...over,
  });

  it("old rows still stop a second application after the upgrade; a sender of another class starts apart", async () => {
    const sink = env.FORWARD_SINK.getByName(`legacy-${Date.now()}`);
    // The record as the version before sourceId wrote it: keyed by source and forward only.
    await runInDurableObject(sink, (_a, ctx) => {
      ctx.storage.sql.exec(
        "CREATE TABLE _dosql_applied (source TEXT NOT NULL, forward TEXT NOT NULL, lsn INTEGER NOT NULL, at INTEGER NOT NULL, epoch INTEGER, PRIMARY KEY (source, forward))",
      );
      ctx.storage.sql.exec("INSERT INTO _dosql_applied VALUES ('legacy-src', 'f', 3, 1, 100)");
      ctx.storage.sql.exec("INSERT INTO _dosql_applied VALUES ('other-src', 'f', 7, 1, 100)");
    });
    // The upgraded sender redelivers what the old record holds: nothing is applied again.
    expect(await sink.applyRaw(batch({ sourceId: "id-a" }))).toEqual({
      applied: false,
      changes: 0,
      appliedLsn: 3,
    });
    // A batch of the same sender from before its upgrade (no sourceId, still in a queue) neither.
    expect(await sink.applyRaw(batch())).toEqual({ applied: false, changes: 0, appliedLsn: 3 });
    const next = batch({ sourceId: "id-a", after: 3, from: 4, to: 4 });
    next.changes = [{ ...next.changes[0], lsn: 4, key: { id: 4 }, after: { id: 4, name: "n4", qty: 4 } }];
    expect(await sink.applyRaw(next)).toEqual({ applied: true, changes: 1, appliedLsn: 4 });
    // Another class's instance of the same name and forward: its own record, from the start.
    expect(await sink.applyRaw(batch({ sourceId: "id-b" }))).toEqual({
      applied: true,
      changes: 3,
      appliedLsn: 3,
    });
    expect(await sink.appliedBy("legacy-src", "f", "id-a")).toBe(4);
    expect(await sink.appliedBy("legacy-src", "f", "id-b")).toBe(3);
    // Untouched rows of other senders are kept (claimed by their next batch).
    expect(await sink.appliedBy("other-src", "f", "id-c")).toBe(7);
    expect((await sink.dump()).received.map((r) => r.lsn)).toEqual([4, 1, 2, 3]);
  });
});
