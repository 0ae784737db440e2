import { ActorError } from "../errors";
import type { Caller } from "./caller";

/** Who may call: `public` (anyone), `user` (a verified user), `admin`, or an application's own role. */
export type Role = "public" | "user" | "admin" | (string & {});

/** What an actor offers to sockets: `defineActor({ rpc: rpc({ methods, live }) })`. */
export interface RpcConfig<M extends string = string> {
  /** The methods a socket may call, each with the role it needs. Nothing else is reachable. */
  methods: { readonly [K in M]: Role };
  /**
   * Live queries (`subscribe({ sql, params })`) for this role (default public), on the tables the
   * live feed's grant allows (`history.live`), or only on `tables` among them.
   */
  live?: { tables?: readonly string[] | "all"; role?: Role };
  /**
   * Does `caller` hold `required`? The default ranks public < user < admin (an application role
   * needs that exact role, or admin). The coordinator's auth module may supply its own check.
   */
  authorize?: (required: Role, caller: Caller) => boolean;
  /** Calls (streams included) one connection may have in flight (default 32). */
  maxInFlight?: number;
  /** Largest answer frame in bytes (default 1 MiB); stream longer results. */
  maxResultBytes?: number;
  /** Live queries one connection may hold (default 8; each counts toward the 16 KiB socket state). */
  maxLiveQueries?: number;
}

export interface RpcSettings {
  methods: ReadonlyMap<string, Role>;
  live: { tables: ReadonlySet<string> | "all"; role: Role } | undefined;
  authorize: (required: Role, caller: Caller) => boolean;
  maxInFlight: number;
  maxResultBytes: number;
  maxLiveQueries: number;
}

const RANK: Record<string, number> = { public: 0, user: 1, admin: 2 };

/** public < user < admin; an application role is held by that role and by admin. */
export function defaultAuthorize(required: Role, who: Caller): boolean {
  const need = RANK[required];
  const held = RANK[who.role ?? "public"];
  if (need === undefined) return who.role === required || who.role === "admin";
  return held !== undefined && held >= need;
}

const METHOD_NAME = /^[A-Za-z$][\w$]{0,127}$/;

function wholeNumber(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw new ActorError("INVALID_CONFIG", `rpc.${what} must be a whole number >= 1`);
  return value as number;
}

function checkRole(role: unknown, what: string): Role {
  if (typeof role !== "string" || role.length === 0 || role.length > 64)
    throw new ActorError("INVALID_CONFIG", `${what}: a role is a string such as "public", "user" or "admin"`);
  return role;
}

export function readRpcConfig(config: RpcConfig): RpcSettings {
  if (!config || typeof config !== "object")
    throw new ActorError("INVALID_CONFIG", "rpc needs a config object");
  if (!config.methods || typeof config.methods !== "object")
    throw new ActorError("INVALID_CONFIG", "rpc.methods must map method names to roles");
  const methods = new Map<string, Role>();
  for (const [name, role] of Object.entries(config.methods)) {
    if (!METHOD_NAME.test(name) || name.startsWith("_"))
      throw new ActorError("INVALID_CONFIG", `rpc.methods: ${JSON.stringify(name)} is not a method name`);
    methods.set(name, checkRole(role, `rpc.methods.${name}`));
  }
  let live: RpcSettings["live"];
  if (config.live !== undefined) {
    const { tables, role } = config.live;
    if (
      tables !== undefined &&
      tables !== "all" &&
      !(Array.isArray(tables) && tables.every((t) => typeof t === "string"))
    )
      throw new ActorError("INVALID_CONFIG", 'rpc.live.tables must be "all" or a list of table names');
    live = {
      tables: tables === undefined || tables === "all" ? "all" : new Set(tables),
      role: role === undefined ? "public" : checkRole(role, "rpc.live.role"),
    };
  }
  if (config.authorize !== undefined && typeof config.authorize !== "function")
    throw new ActorError("INVALID_CONFIG", "rpc.authorize must be a function");
  return {
    methods,
    live,
    authorize: config.authorize ?? defaultAuthorize,
    maxInFlight: wholeNumber(config.maxInFlight, "maxInFlight", 32),
    maxResultBytes: wholeNumber(config.maxResultBytes, "maxResultBytes", 1024 * 1024),
    maxLiveQueries: wholeNumber(config.maxLiveQueries, "maxLiveQueries", 8),
  };
}
