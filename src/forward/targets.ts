import { ActorError } from "../errors";
import type { ForwardBatch, ForwardChange, ForwardTarget } from "./types";

/** One place a batch goes: a stable id (for its `after`) and how to hand it over. */
export interface Destination {
  id: string;
  changes: ForwardChange[];
  send(batch: ForwardBatch): Promise<unknown>;
}

export interface TargetHost {
  env: Record<string, unknown>;
  source: string;
  /** `ctx.id.toString()`: every batch's `sourceId`. */
  sourceId: string;
  /** `this[method](batch)` of the sending actor. */
  call(method: string, batch: ForwardBatch): Promise<unknown>;
}

/** Queue messages are at most 128 KB; RPC messages 32 MiB. Room is left for the envelope. */
export const MAX_BATCH_BYTES = { queue: 100_000, other: 8_000_000 } as const;

export function targetLabel(to: ForwardTarget): string {
  if ("queue" in to) return `queue:${to.queue}`;
  if ("call" in to) return `call:${to.call}`;
  return `actor:${to.actor}.${to.method}`;
}

/** The binding or method a target needs, checked on every wake (INVALID_CONFIG when it is missing). */
export function checkTargetBinding(
  to: ForwardTarget,
  host: TargetHost,
  hasMethod: (m: string) => boolean,
): void {
  if ("call" in to) {
    if (!hasMethod(to.call))
      throw new ActorError("INVALID_CONFIG", `forward: ${to.call} is not a method of this actor`);
    return;
  }
  const name = "queue" in to ? to.queue : to.actor;
  const binding = host.env[name] as Record<string, unknown> | undefined;
  const needs = "queue" in to ? "send" : "getByName";
  if (!binding || typeof binding[needs] !== "function")
    throw new ActorError(
      "INVALID_CONFIG",
      `forward: env.${name} is not a ${"queue" in to ? "Queue producer" : "Durable Object namespace"} binding`,
    );
}

/** Split a batch's changes by destination, keeping LSN order within each. */
export function destinations(to: ForwardTarget, host: TargetHost, changes: ForwardChange[]): Destination[] {
  if ("queue" in to) {
    const queue = host.env[to.queue] as Queue;
    return [{ id: `queue:${to.queue}`, changes, send: (batch) => queue.send(batch, { contentType: "v8" }) }];
  }
  if ("call" in to)
    return [
      {
        id: `call:${to.call}`,
        changes,
        send: async (batch) => disposeResult(await host.call(to.call, batch)),
      },
    ];
  const namespace = host.env[to.actor] as DurableObjectNamespace;
  const byName = new Map<string, ForwardChange[]>();
  for (const change of changes) {
    const name = typeof to.name === "function" ? to.name(change, host.source) : to.name;
    if (typeof name !== "string" || name.length === 0 || name.length > 256)
      throw new ActorError(
        "FORWARD_BAD_TARGET",
        `forward target name for LSN ${change.lsn} is not a 1-256 character string`,
      );
    const list = byName.get(name);
    if (list) list.push(change);
    else byName.set(name, [change]);
  }
  return [...byName].map(([name, list]) => ({
    id: `actor:${to.actor}/${name}`,
    changes: list,
    send: (batch) => {
      const stub = namespace.getByName(name) as unknown as Record<
        string,
        (b: ForwardBatch) => Promise<unknown>
      >;
      return stub[to.method](batch);
    },
  }));
}

/** An RPC result holds its session (and keeps the actor from being evicted) until disposed. */
export function disposeResult(result: unknown): void {
  const symbol = (Symbol as { dispose?: symbol }).dispose;
  if (!symbol || result === null || typeof result !== "object") return;
  const dispose = (result as Record<symbol, unknown>)[symbol];
  if (typeof dispose === "function") dispose.call(result);
}
