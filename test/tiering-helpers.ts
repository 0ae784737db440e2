import { env } from "cloudflare:test";
import { afterEach } from "vitest";
import { ActorError } from "../src/index";
import { DEFAULT_TIERING, type TieredActor, tieringConfig } from "./fixtures/tiered";

let seq = 0;

/** A fresh actor (own name, so own R2 keys), optionally with its own tiering config. */
export function freshTiered(prefix: string, config?: typeof DEFAULT_TIERING) {
  tieringConfig.current = { ...DEFAULT_TIERING, ...config };
  const name = `${prefix}-${Date.now().toString(36)}-${seq++}`;
  return { name, stub: env.TIERED.getByName(name) };
}

afterEach(() => {
  tieringConfig.current = DEFAULT_TIERING;
});

/**
 * The code of the error a call rejects with. Calls expected to reject asynchronously go through
 * `runInDurableObject`: vitest-pool-workers 1.5 reports an async RPC method's rejection as an
 * unhandled error (failing the run) even when the test awaits it.
 */
export async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (err) {
    return ActorError.from(err)?.code ?? `untyped: ${String(err)}`;
  }
  return undefined;
}

/** `stub.query` with a row type (generic methods lose their type parameters over RPC). */
export async function q<T = Record<string, unknown>>(
  stub: DurableObjectStub<TieredActor>,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await stub.query(sql, params)) as unknown as T[];
}

/** Every key under a prefix of the local R2 bucket. */
export async function r2Keys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.ARCHIVE.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

/** The r2:// reference of an actor's archived readings. */
export const readingsRef = (name: string) => `'r2://ARCHIVE/archive/${name}/readings/*.parquet'`;

/** Scratch and staging tables still present (must be none after any call). */
export async function leftovers(stub: DurableObjectStub<TieredActor>): Promise<string[]> {
  const rows = await q<{ name: string }>(
    stub,
    "SELECT name FROM sqlite_master WHERE type = 'table' AND (name LIKE '\\_dosql\\_cold\\_%' ESCAPE '\\' OR name LIKE '\\_dosql\\_stage\\_%' ESCAPE '\\')",
  );
  return rows.map((r) => r.name);
}
