import { env } from "cloudflare:test";

let seq = 0;
/** A fresh source actor (storage is shared per test file, names are not) and its name. */
export function freshSource(prefix: string) {
  const name = `${prefix}-${Date.now()}-${seq++}`;
  return { name, source: env.FORWARD_SOURCE.getByName(name) };
}

/** The sinks a source forwards to: over RPC, through the queue, through its own `sendOut`. */
export const sinks = (name: string) => ({
  mirror: env.FORWARD_SINK.getByName(`sink-${name}`),
  queue: env.FORWARD_SINK.getByName(`queue-${name}`),
  webhook: env.FORWARD_SINK.getByName(`call-${name}`),
});

/** Poll until `check` is true (real delivery runs on alarms and a real queue). */
export async function until(check: () => Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
