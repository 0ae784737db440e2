import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { ForwardBatch } from "../src/forward/index";
import type { ForwardSink, ForwardSource } from "./fixtures/forward-actors";

let seq = 0;
/** A fresh source actor (storage is shared per test file, names are not) and its name. */
export function freshSource(prefix: string) {
  const name = `${prefix}-${Date.now()}-${seq++}`;
  return { name, source: env.FORWARD_SOURCE.getByName(name) };
}

export type Sink = DurableObjectStub<ForwardSink>;
export type Source = DurableObjectStub<ForwardSource>;

/** The sinks a source forwards to: over RPC, through the queue, through its own `sendOut`. */
export const sinks = (name: string) => ({
  mirror: env.FORWARD_SINK.getByName(`sink-${name}`),
  queue: env.FORWARD_SINK.getByName(`queue-${name}`),
  webhook: env.FORWARD_SINK.getByName(`call-${name}`),
});

/** Poll until `check` is true (real delivery runs on alarms and a real queue). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until the sink's mirror of `name` equals the source's items. */
export async function mirrored(
  source: Source,
  sink: Sink,
  name: string,
  what: string,
  timeoutMs?: number,
): Promise<void> {
  const want = JSON.stringify((await source.items()).map((r) => ({ source: name, ...r, extra: "[]" })));
  await until(async () => JSON.stringify((await sink.dump()).mirror) === want, what, timeoutMs);
}

/** The LSNs of `items` changes a forward of id, name, qty must deliver (updates of `secret` alone are not). */
export async function exportedLsns(source: Source): Promise<number[]> {
  const history = await source.history;
  const lsns: number[] = [];
  for (let from = 1; ; ) {
    const page = await history.changes({ fromLsn: from, tables: ["items"], limit: 1000 });
    for (const c of page.changes)
      if (c.op !== "update" || (c.changed ?? []).some((k) => k !== "secret")) lsns.push(c.lsn);
    if (page.changes.length === 0) return lsns;
    from = page.nextLsn;
  }
}

/**
 * What a sink stored is exactly the exported changes of `forward`, once each, in LSN order, and
 * every batch that ever arrived names its source and forward and a sane LSN range.
 */
export async function exactlyOnce(sink: Sink, name: string, forward: string, lsns: number[]): Promise<void> {
  const dump = await sink.dump();
  const received = dump.received.filter((r) => r.forward === forward);
  expect(received.every((r) => r.source === name)).toBe(true);
  expect(received.map((r) => r.lsn)).toEqual(lsns);
  for (const body of dump.arrivals) {
    const batch = JSON.parse(body);
    expect(batch.source).toBe(name);
    expect(batch.forward).toBe(forward);
    expect(batch.from).toBeLessThanOrEqual(batch.to);
    expect(batch.after).toBeLessThan(batch.to);
    for (const c of batch.changes) {
      expect(c.lsn).toBeGreaterThanOrEqual(batch.from);
      expect(c.lsn).toBeLessThanOrEqual(batch.to);
    }
  }
}

/** A batch as a sender delivers it: source `src`, forward `f`, inserts of items 1–3 (LSNs 1–3). */
export const itemsBatch = (over: Partial<ForwardBatch> = {}): ForwardBatch => ({
  source: "src",
  forward: "f",
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
