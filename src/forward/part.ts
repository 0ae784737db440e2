import { resolveForwards } from "./config";
import { type ForwardHost, Forwarding } from "./forwarding";
import type { ForwardSpec, ResolvedForward } from "./types";

/** What `defineActor({ forward })` holds: the checked forwards and how to start them. */
export interface ForwardPart {
  readonly kind: "forward";
  readonly forwards: readonly ResolvedForward[];
  create(host: ForwardHost): Forwarding;
}

/**
 * The outbox of an actor: `defineActor({ schema, history, forward: forward([{ name, tables, to }]) })`.
 * Checked here (INVALID_CONFIG); tables, columns and bindings are checked on every wake.
 */
export function forward(specs: readonly ForwardSpec[]): ForwardPart {
  const forwards = Object.freeze(resolveForwards(specs));
  return Object.freeze({
    kind: "forward" as const,
    forwards,
    create: (host: ForwardHost) => new Forwarding(host, forwards),
  });
}
