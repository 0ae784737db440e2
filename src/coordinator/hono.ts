import { HonoBase, type HonoOptions } from "hono/hono-base";
import { TrieRouter } from "hono/router/trie-router";
import type { BlankEnv, BlankSchema, Env, Schema } from "hono/types";

/**
 * The Hono app class of the coordinator and of every actor's routes: hono's own `Hono`, routed by
 * TrieRouter alone. `hono`'s default SmartRouter tries RegExpRouter first and keeps TrieRouter for
 * the routes RegExpRouter refuses; ours are such routes (RegExpRouter throws on
 * `/analytics/:region/query` beside `/analytics/...`), so SmartRouter always ended on TrieRouter:
 * matching is unchanged, and RegExpRouter and SmartRouter are no longer bundled.
 */
export class Hono<
  E extends Env = BlankEnv,
  S extends Schema = BlankSchema,
  BasePath extends string = "/",
> extends HonoBase<E, S, BasePath> {
  constructor(options: HonoOptions<E> = {}) {
    super(options);
    this.router = options.router ?? new TrieRouter();
  }
}
