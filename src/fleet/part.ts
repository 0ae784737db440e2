import { ActorError } from "../errors";
import { tableExists } from "../sql/tables";
import { type ReadOnlyResult, readOnlyQuery } from "./read-only";
import type { FleetRegistry } from "./registry";
import type { FleetReport, MemberInfo } from "./types";

/** What the fleet part needs from its actor (src/sql-actor.ts wires it; this part never imports it). */
export interface FleetHost {
  ctx: DurableObjectState;
  env: object;
  /** The actor's class name: the registry reaches the actor through `ctx.exports[className]`. */
  className: string;
  name(): string;
  schemaVersion(): string | null;
  databaseBytes(): number;
}

/** The fleet part as `defineActor({ fleet })` holds it. */
export interface FleetPart {
  readonly kind: "fleet";
  /** The registry's name: the route prefix of the actor kind (`tenants`, `inventory`, …). */
  readonly registry: string;
  create(host: FleetHost): FleetMember;
}

export interface FleetEnv {
  /** The registries (one object per kind). Without it the part reports nothing. */
  FLEET?: DurableObjectNamespace<FleetRegistry>;
}

/** A report is fresh this long: a wake within it reports again only when the schema changed. */
export const REPORT_FRESH_MS = 60 * 60_000;
/** Attempts of one report (then the next wake tries again: the marker is written only on success). */
export const REPORT_ATTEMPTS = 4;
const BACKOFF_MS = [50, 250, 1_000];
const MARKER = "_dosql_fleet";
/** Rows one actor answers to a fleet query at most. */
export const MAX_QUERY_ROWS = 10_000;

/**
 * Join the fleet of this actor kind, in one line of the actor's config:
 *
 *   static config = defineActor({ schema, migrations, fleet: fleet("tenants") });
 *
 * The actor then reports itself (name, class, schema version, database size) to the registry
 * `FLEET.getByName("tenants")` on its first wake and after every schema change, in the background
 * (`ctx.waitUntil`, never awaited by a call) and retried; and it answers the registry's
 * `migrateAll` (a wake runs pending migrations) and read-only `queryAll`.
 */
export function fleet(registry: string): FleetPart {
  if (typeof registry !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(registry))
    throw new ActorError("INVALID_CONFIG", 'fleet(kind): kind is a route prefix such as "tenants"');
  return Object.freeze({
    kind: "fleet" as const,
    registry,
    create: (host: FleetHost) => new FleetMember(registry, host),
  });
}

export class FleetMember {
  readonly #registry: string;
  readonly #host: FleetHost;
  #applied = 0;

  constructor(registry: string, host: FleetHost) {
    this.#registry = registry;
    this.#host = host;
  }

  /** After migrations, on every wake: report in the background when the registry's view is stale. */
  woke(applied: number): void {
    this.#applied = applied;
    if ((this.#host.env as FleetEnv).FLEET && this.#stale()) this.refresh();
  }

  /** Report now, in the background: after a change the registry must see at once (a restore's size). */
  refresh(): void {
    const ns = (this.#host.env as FleetEnv).FLEET;
    if (ns) this.#host.ctx.waitUntil(this.#report(ns));
  }

  /** The registry's wake-up call: version after the wake's migrations, size, migrations applied. */
  info(): MemberInfo {
    const info = {
      version: this.#host.schemaVersion(),
      bytes: this.#host.databaseBytes(),
      applied: this.#applied,
    };
    this.#applied = 0;
    // Only a change is written: a write holds the answer until it is durable (the output gate).
    if (this.#stale()) this.#mark(info.version);
    return info;
  }

  query(sql: string, params: readonly unknown[], maxRows: number): ReadOnlyResult {
    if (typeof sql !== "string" || sql.length === 0 || sql.length > 100_000)
      throw new ActorError("VALIDATION_FAILED", "sql: a statement of at most 100,000 characters");
    if (!Array.isArray(params) || params.length > 100)
      throw new ActorError("VALIDATION_FAILED", "params: an array of at most 100 values");
    const rows = Number.isInteger(maxRows) && maxRows >= 1 ? Math.min(maxRows, MAX_QUERY_ROWS) : 1000;
    return readOnlyQuery(this.#host.ctx.storage, sql, params, rows);
  }

  report(): FleetReport {
    return {
      name: this.#host.name(),
      className: this.#host.className,
      version: this.#host.schemaVersion(),
      bytes: this.#host.databaseBytes(),
      jurisdiction: this.#host.ctx.id.jurisdiction ?? null,
    };
  }

  async #report(ns: DurableObjectNamespace<FleetRegistry>): Promise<void> {
    for (let attempt = 0; attempt < REPORT_ATTEMPTS; attempt++) {
      try {
        const report = this.report();
        await ns.getByName(this.#registry).report(report);
        this.#mark(report.version);
        return;
      } catch {
        if (attempt < BACKOFF_MS.length) await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
      }
    }
    // Still unreported: the marker is unchanged, so the next wake tries again.
  }

  #stale(): boolean {
    const sql = this.#host.ctx.storage.sql;
    if (!tableExists(sql, MARKER)) return true;
    const [row] = sql
      .exec<{ version: string | null; at: number }>(`SELECT version, at FROM ${MARKER}`)
      .toArray();
    return !row || row.version !== this.#host.schemaVersion() || Date.now() - row.at > REPORT_FRESH_MS;
  }

  /** The registry knows this version as of now. */
  #mark(version: string | null): void {
    const sql = this.#host.ctx.storage.sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${MARKER} (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT, at INTEGER NOT NULL)`,
    );
    sql.exec(
      `INSERT INTO ${MARKER} (id, version, at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, at = excluded.at`,
      version,
      Date.now(),
    );
  }
}
