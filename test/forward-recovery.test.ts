import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ForwardBatch } from "../src/forward/index";
import { itemsBatch, mirrored, sinks, until } from "./forward-helpers";

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
  const batch = (over: Partial<ForwardBatch> = {}) =>
    itemsBatch({ source: "legacy-src", epoch: 100, ...over });

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

describe("forward recovery: a receiver restored from an old backup", () => {
  /** A source forwarding `mirror` to a backed-up sink; rows 1-3 delivered, the sink backed up, rows 4-`upTo` delivered. */
  async function restoredReceiver(prefix: string, upTo: number) {
    const name = `${prefix}-${Date.now()}`;
    const source = env.RESTORED_SINK_SOURCE.getByName(name);
    const sink = env.BACKED_UP_SINK.getByName(`sink-${name}`);
    for (let i = 1; i <= 3; i++) await source.add(i, `n${i}`, i, "s");
    await until(async () => (await source.pending("mirror")) === 0, "rows 1-3 delivered");
    const { key } = await runInDurableObject(sink, (a) => a.tiering.backup());
    for (let i = 4; i <= upTo; i++) await source.add(i, `n${i}`, i, "s");
    await until(async () => (await source.pending("mirror")) === 0, "the rest delivered");
    expect(await sink.applied(name, "mirror")).toBe(upTo);
    return { name, source, sink, key };
  }

  it("while the sender's history still holds what the receiver lost, the forward re-sends it and goes on", async () => {
    const { name, source, sink, key } = await restoredReceiver("restored-held", 6);
    await runInDurableObject(sink, (a) => a.tiering.restoreFromBackup(key));
    expect(await sink.applied(name, "mirror")).toBe(3);
    // The next write's batch follows LSN 6; the receiver has 3: FORWARD_GAP, answered by a re-send from 4.
    await source.add(7, "n7", 7, "s");
    await mirrored(source, sink, name, "the receiver whole again", 10_000);
    const status = (await source.stats()).forwards[0];
    expect([status.state, status.pending, status.failures, status.lastError]).toEqual(["active", 0, 0, null]);
    expect(await sink.applied(name, "mirror")).toBe(7);
    // Each change once since the restore: 1-3 from the backup, 4-7 applied after it.
    expect((await sink.dump()).received.map((r) => r.lsn)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("when the history no longer holds it: parked with the gap shown; resumeForward skips it only when told", async () => {
    const { name, source, sink, key } = await restoredReceiver("restored-pruned", 13);
    const pruned = await (await source.history).prune();
    expect(pruned.floorLsn).toBe(9); // retention keeps 5 changes: 9-13
    await runInDurableObject(sink, (a) => a.tiering.restoreFromBackup(key));
    await source.add(14, "n14", 14, "s");
    await until(
      async () => (await source.stats()).forwards[0].state === "parked",
      "parked on the gap",
      10_000,
    );
    const parked = (await source.stats()).forwards[0];
    expect(parked.lastError).toContain("FORWARD_GAP");
    expect(parked.gap).toEqual({
      destination: `actor:BACKED_UP_SINK/sink-${name}`,
      appliedLsn: 3,
      heldFromLsn: 9,
    });
    // Nothing was applied past the gap, and a plain resume parks again (the receiver is still behind).
    expect(await sink.applied(name, "mirror")).toBe(3);
    const again = await source.resumeForward("mirror");
    expect(again.state).toBe("parked");
    expect(again.gap?.appliedLsn).toBe(3);
    // The operator accepts the loss of 4-8 at that receiver: delivery goes on from 9.
    const resumed = await source.resumeForward("mirror", { skipGap: true });
    expect(resumed.state).toBe("active");
    expect(resumed.gap).toBeNull();
    await until(async () => (await source.pending("mirror")) === 0, "delivered past the gap");
    expect((await sink.dump()).mirror.map((r) => r.id)).toEqual([1, 2, 3, 9, 10, 11, 12, 13, 14]);
    expect(await sink.applied(name, "mirror")).toBe(14);
  });
});
