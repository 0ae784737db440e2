// What the schedule tests share: fresh ScheduledActor stubs and reads inside them.
import { env, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { ActorError } from "../src/index";
import type { RunRow, ScheduledActor } from "./fixtures/scheduled-actors";

let seq = 0;
/** A name no other test uses. */
export const name = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
export const fresh = (prefix: string) => env.SCHEDULED.getByName(name(prefix));
export type Stub = ReturnType<typeof fresh>;

export const inActor = <R>(
  stub: Stub,
  fn: (actor: ScheduledActor, state: DurableObjectState) => R | Promise<R>,
) => runInDurableObject(stub, fn);
export const alarmOf = (stub: Stub) => inActor(stub, (_actor, state) => state.storage.getAlarm());
export const runsOf = (stub: Stub, method?: string): Promise<RunRow[]> =>
  inActor(stub, (actor) => actor.runs(method));
export const listOf = (stub: Stub) => inActor(stub, (actor) => actor.schedule.list());
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const waitFor = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 10_000, interval: 50 });

/** The code `fn` throws (untyped errors named as such), or undefined. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}
