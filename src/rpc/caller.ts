import { AsyncLocalStorage } from "node:async_hooks";
import { ActorError } from "../errors";

ActorError.defineStatus("UPGRADE_REQUIRED", 426);

/**
 * Who is calling a method over a socket. The coordinator (or any Worker in front of the actor)
 * states it on the upgrade request with `withCaller`, after its own authentication; the actor
 * keeps it on the connection (it survives hibernation) and makes it available to the method
 * through `caller()` for the duration of the call.
 */
export interface Caller {
  /** The socket's connection id. */
  connectionId: string;
  /** `public` (or null: nobody vouched), `user`, `admin`, or an application's own role. */
  role: string | null;
  userId: string | null;
  name: string | null;
}

/** What a Worker in front of an actor vouches for on the upgrade request. */
export interface VouchedCaller {
  role: string | null;
  userId?: string | null;
  name?: string | null;
}

/** The request header carrying the vouched caller (JSON). Only the Worker in front may set it. */
export const CALLER_HEADER = "x-dosql-caller";

const current = new AsyncLocalStorage<Caller>();

/** The caller of the socket call being served, or undefined outside one (HTTP, DO RPC, schedules). */
export function caller(): Caller | undefined {
  return current.getStore();
}

export function runAsCaller<T>(who: Caller, fn: () => T): T {
  return current.run(who, fn);
}

/**
 * A copy of `request` that states who is calling, for `stub.fetch(withCaller(request, who))`.
 * Any caller header the client sent is replaced, so a client can never vouch for itself.
 */
export function withCaller(request: Request, who: VouchedCaller): Request {
  const headers = new Headers(request.headers);
  headers.set(
    CALLER_HEADER,
    JSON.stringify({ role: who.role ?? null, userId: who.userId ?? null, name: who.name ?? null }),
  );
  return new Request(request, { headers });
}

/** The vouched caller on an upgrade request, or undefined when there is none (or it is malformed). */
export function vouchedCaller(request: Request): VouchedCaller | undefined {
  const text = request.headers.get(CALLER_HEADER);
  if (!text || text.length > 1024) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 128 ? v : null);
    return { role: str(value.role), userId: str(value.userId), name: str(value.name) };
  } catch {
    return undefined;
  }
}
