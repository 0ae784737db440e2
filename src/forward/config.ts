import { ActorError } from "../errors";
import { IDENTIFIER } from "../export-name";
import type { ForwardSpec, ForwardTarget, ResolvedForward } from "./types";

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const IDENT = /^[^"\s][^"]{0,127}$/;

const invalid = (message: string): ActorError => new ActorError("INVALID_CONFIG", `forward: ${message}`);

function count(value: unknown, what: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${what} must be a whole number from ${min} to ${max}`);
  return value;
}

function bindingName(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value))
    throw invalid(`${what} must name a binding`);
  return value;
}

function checkTarget(to: unknown, name: string): ForwardTarget {
  if (!to || typeof to !== "object")
    throw invalid(`${name}.to must be { queue }, { actor, name, method } or { call }`);
  const t = to as Record<string, unknown>;
  const keys = Object.keys(t).sort().join(",");
  if (keys === "queue") return { queue: bindingName(t.queue, `${name}.to.queue`) };
  if (keys === "call") {
    if (typeof t.call !== "string" || !IDENTIFIER.test(t.call))
      throw invalid(`${name}.to.call must name a method of the actor`);
    return { call: t.call };
  }
  if (keys === "actor,method,name") {
    const actor = bindingName(t.actor, `${name}.to.actor`);
    if (typeof t.method !== "string" || !IDENTIFIER.test(t.method))
      throw invalid(`${name}.to.method must name a method of the target actor`);
    if (
      typeof t.name !== "function" &&
      !(typeof t.name === "string" && t.name.length > 0 && t.name.length <= 256)
    )
      throw invalid(`${name}.to.name must be an actor name or a function of the change`);
    return { actor, name: t.name as string, method: t.method };
  }
  throw invalid(`${name}.to must be exactly one of { queue }, { actor, name, method } or { call }`);
}

function checkOne(spec: ForwardSpec, index: number): ResolvedForward {
  if (!spec || typeof spec !== "object") throw invalid(`entry ${index} must be an object`);
  if (typeof spec.name !== "string" || !NAME.test(spec.name))
    throw invalid(`entry ${index}: name must be 1-64 characters of [A-Za-z0-9._-]`);
  const name = spec.name;
  if (!Array.isArray(spec.tables) || spec.tables.length === 0)
    throw invalid(`${name}.tables must be a non-empty list of tables`);
  for (const table of spec.tables)
    if (typeof table !== "string" || !IDENT.test(table)) throw invalid(`${name}.tables has a bad table name`);
  if (new Set(spec.tables).size !== spec.tables.length) throw invalid(`${name}.tables lists a table twice`);
  const columns = new Map<string, readonly string[]>();
  if (spec.columns !== undefined) {
    if (!spec.columns || typeof spec.columns !== "object" || Array.isArray(spec.columns))
      throw invalid(`${name}.columns must map table names to column lists`);
    for (const [table, list] of Object.entries(spec.columns)) {
      if (!spec.tables.includes(table)) throw invalid(`${name}.columns.${table}: ${table} is not in tables`);
      if (
        !Array.isArray(list) ||
        list.length === 0 ||
        !list.every((c) => typeof c === "string" && IDENT.test(c))
      )
        throw invalid(`${name}.columns.${table} must be a non-empty list of column names`);
      if (new Set(list).size !== list.length) throw invalid(`${name}.columns.${table} lists a column twice`);
      columns.set(table, Object.freeze([...list]));
    }
  }
  if (spec.where !== undefined && typeof spec.where !== "function")
    throw invalid(`${name}.where must be a function of the change`);
  const to = checkTarget(spec.to, name);
  if (spec.batch !== undefined && (spec.batch === null || typeof spec.batch !== "object"))
    throw invalid(`${name}.batch must be { size?, maxWaitMs? }`);
  if (spec.retry !== undefined && (spec.retry === null || typeof spec.retry !== "object"))
    throw invalid(`${name}.retry must be { attempts?, backoffMs?, maxBackoffMs?, timeoutMs? }`);
  if (spec.start !== undefined && spec.start !== "now" && spec.start !== "start")
    throw invalid(`${name}.start must be "now" or "start"`);
  return {
    name,
    tables: Object.freeze([...spec.tables]),
    columns,
    where: spec.where,
    to,
    size: count(spec.batch?.size, `${name}.batch.size`, 100, 1, 1000),
    maxWaitMs: count(spec.batch?.maxWaitMs, `${name}.batch.maxWaitMs`, 1000, 1, 3_600_000),
    attempts: count(spec.retry?.attempts, `${name}.retry.attempts`, 8, 1, 100),
    backoffMs: count(spec.retry?.backoffMs, `${name}.retry.backoffMs`, 1000, 1, 3_600_000),
    maxBackoffMs: count(spec.retry?.maxBackoffMs, `${name}.retry.maxBackoffMs`, 300_000, 1, 86_400_000),
    timeoutMs: count(spec.retry?.timeoutMs, `${name}.retry.timeoutMs`, 60_000, 1, 3_600_000),
    start: spec.start ?? "now",
  };
}

/** Check every forward of an actor (names unique); throws INVALID_CONFIG. */
export function resolveForwards(specs: readonly ForwardSpec[]): ResolvedForward[] {
  if (!Array.isArray(specs) || specs.length === 0) throw invalid("needs a non-empty list of forwards");
  const resolved = specs.map(checkOne);
  const names = new Set(resolved.map((f) => f.name));
  if (names.size !== resolved.length) throw invalid("two forwards have the same name");
  return resolved;
}
