import { env, runInDurableObject } from "cloudflare:test";
import { ActorError } from "../src/index";
import type { HistoryActor } from "./fixtures/history-actors";

let seq = 0;
/** A fresh history fixture actor (storage is shared per test file, names are not). */
export const freshHistory = (prefix: string) => env.HISTORY.getByName(`${prefix}-${Date.now()}-${seq++}`);

/** Let the clock move: commit times on either side of a tick differ. */
export const tick = (ms = 3) => new Promise((r) => setTimeout(r, ms));

/** Run `fn` inside the actor (it gets the actor instance and its storage). */
export function inside<T>(
  stub: DurableObjectStub<HistoryActor>,
  fn: (actor: HistoryActor, state: DurableObjectState) => T,
): Promise<T> {
  return runInDurableObject(stub, fn);
}

/** The time now inside the actor, with the clock moved on both sides. */
export async function pointInTime(stub: DurableObjectStub<HistoryActor>): Promise<number> {
  await tick();
  const at = await inside(stub, () => Date.now());
  await tick();
  return at;
}

/** The typed error a call ends with (RPC promises are callable, so this takes the promise only). */
export async function codeOf(promise: Promise<unknown>): Promise<ActorError | undefined> {
  try {
    await promise;
  } catch (err) {
    return ActorError.from(err) ?? new ActorError("UNTYPED", String(err));
  }
  return undefined;
}
