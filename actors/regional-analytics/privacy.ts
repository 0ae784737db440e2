import { authConfig } from "../../src/coordinator/auth";
import { ActorError } from "../../src/errors";
import { toHex } from "../../src/hex";

ActorError.defineStatus("ANALYTICS_SALT_MISSING", 500);

/** A salt shorter than this is refused: it would make the hashes guessable. */
export const MIN_SALT_LENGTH = 16;

export interface SaltEnv {
  ANALYTICS_SALT?: string;
  AUTH_JWT_SECRET?: string;
  AUTH_JWKS?: string;
  ADMIN_TOKEN?: string;
}

/**
 * Where the salt comes from. Production is the same test the coordinator uses for auth
 * (src/coordinator/auth.ts): any of AUTH_JWT_SECRET, AUTH_JWKS, ADMIN_TOKEN set. There an unset
 * or short ANALYTICS_SALT is an error on every ingest (nothing is written); in development mode
 * (`npm start`, none of them set) the actor generates a salt, keeps it in its own database so
 * hashes stay stable across restarts, and logs that once.
 */
export function configuredSalt(env: SaltEnv): { salt: string } | { development: true } {
  const salt = env.ANALYTICS_SALT?.trim();
  if (salt && salt.length >= MIN_SALT_LENGTH) return { salt };
  if (!authConfig(env).dev || salt)
    throw new ActorError(
      "ANALYTICS_SALT_MISSING",
      salt
        ? `ANALYTICS_SALT must be at least ${MIN_SALT_LENGTH} characters`
        : "ANALYTICS_SALT is not set: this Worker is configured for production (auth secrets are set), so user ids cannot be hashed; set it with `wrangler secret put ANALYTICS_SALT`",
    );
  return { development: true };
}

/** A new random development salt (32 bytes, hex). */
export function generateSalt(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

const CACHE_LIMIT = 10_000;

/**
 * HMAC-SHA-256 of user ids under one salt, hex; recent ids are remembered (hashing is async and
 * costs). The key is imported once, when the hasher is made (the actor keeps one per wake).
 */
export class UserHasher {
  readonly #key: Promise<CryptoKey>;
  readonly #cache = new Map<string, string>();

  constructor(salt: string) {
    this.#key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(salt),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  async hash(userId: string): Promise<string> {
    const known = this.#cache.get(userId);
    if (known !== undefined) return known;
    const mac = await crypto.subtle.sign("HMAC", await this.#key, new TextEncoder().encode(userId));
    const hex = toHex(new Uint8Array(mac));
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(userId, hex);
    return hex;
  }

  /** The hash of each event's user id (null without one): remembered ids at once, each other distinct id signed once. */
  async hashAll(events: readonly { userId: string | null }[]): Promise<(string | null)[]> {
    const out: (string | null)[] = new Array(events.length);
    let missing: Map<string, number[]> | undefined;
    for (let i = 0; i < events.length; i++) {
      const id = events[i].userId;
      const known = id === null ? null : this.#cache.get(id);
      if (known !== undefined) out[i] = known;
      else {
        missing ??= new Map();
        const at = missing.get(id as string);
        if (at) at.push(i);
        else missing.set(id as string, [i]);
      }
    }
    if (missing)
      await Promise.all(
        [...missing].map(async ([id, at]) => {
          const hex = await this.hash(id);
          for (const i of at) out[i] = hex;
        }),
      );
    return out;
  }
}
