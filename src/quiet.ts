/**
 * Business errors that cross Durable Object RPC without a log line.
 *
 * workerd logs every exception that ends an RPC call on the callee's side as uncaught
 * ("✘ [ERROR] Uncaught ActorError" in wrangler dev, "uncaught exception" in the vitest pool),
 * even when the caller catches it: the call is an event of the actor, and it ended in an
 * exception. A value returned is not logged, and an Error returned as a value keeps its own
 * properties (code, details) across RPC. So:
 * - the actor offers `_quietCall(method, args)`, which runs the method and answers an
 *   ActorError it throws as a value (`{ error }`) instead of throwing it;
 * - `quietStub(stub)` (what `actorStub()` returns) calls every method through `_quietCall` and
 *   throws the ActorError again on the caller's side, where the caller handles it.
 * Anything else thrown (a bug, a reset) still throws, and is still logged. A plain stub
 * (`env.NS.getByName(name).method()`) behaves as before.
 */
import { ActorError } from "./errors";

/** What `_quietCall` answers: the method's value, or the ActorError it threw. */
export type QuietResult = { value: unknown; error?: undefined } | { error: Error; value?: undefined };

/** The actor side: the name `quietStub` calls. Not a method users call. */
export const QUIET_CALL = "_quietCall";

/**
 * Run `target[method](...args)`, answering an ActorError as a value. `method` must name a method
 * that plain RPC could call (not an entry point in `reserved`, not Object's own).
 */
export async function callQuietly(
  target: object,
  method: unknown,
  args: unknown,
  reserved: ReadonlySet<string>,
): Promise<QuietResult> {
  try {
    if (
      typeof method !== "string" ||
      method === QUIET_CALL ||
      reserved.has(method) ||
      method in Object.prototype
    )
      throw new ActorError("METHOD_NOT_ALLOWED", `${String(method)} cannot be called`);
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== "function") throw new ActorError("METHOD_NOT_ALLOWED", `${method} is not a method`);
    if (!Array.isArray(args)) throw new ActorError("VALIDATION_FAILED", "args must be an array");
    return { value: await fn.apply(target, args) };
  } catch (err) {
    if (err instanceof ActorError) return { error: err };
    throw err;
  }
}

type QuietTarget = Record<string, (...args: unknown[]) => Promise<QuietResult>>;

/** Names a stub answers itself (not actor methods). */
const STUB_OWN = new Set<string | symbol>(["fetch", "connect", "id", "name", "dup"]);

/**
 * The same stub, except that methods are called through `_quietCall`: an ActorError the actor
 * throws reaches the caller as the same ActorError (code, message, details), and the actor logs
 * nothing. Reading a property (`await stub.history`) and pipelining go through the plain stub.
 */
export function quietStub<T extends object>(stub: T): T {
  const plain = stub as unknown as Record<string | symbol, any>;
  return new Proxy(stub, {
    get(target, prop) {
      if (typeof prop === "symbol" || STUB_OWN.has(prop)) {
        const own = Reflect.get(target, prop);
        return typeof own === "function" ? own.bind(target) : own;
      }
      // Not thenable: `await quietStub(stub)` is the stub, as with a plain stub.
      if (prop === "then") return undefined;
      const call = (...args: unknown[]) =>
        (plain as unknown as QuietTarget)[QUIET_CALL](prop, args).then((result) => {
          if (result.error !== undefined) throw ActorError.from(result.error) ?? result.error;
          return result.value;
        });
      // A property read or pipelined call (`stub.history.changes()`) is the plain stub's.
      return new Proxy(call, {
        get(_fn, sub) {
          const property = plain[prop];
          const value = property[sub];
          return typeof value === "function" ? value.bind(property) : value;
        },
      });
    },
  });
}
