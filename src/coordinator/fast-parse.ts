import type * as z from "zod/mini";

/**
 * zod/mini schemas turned into plain closures, for the valid case of `parseInput`. zod compiles
 * an object schema with `new Function` where it may; workerd refuses eval, so there zod walks the
 * schema per call (≈3 µs for `{ id }`, most of a point read). The closure built here from the
 * schema's own definition answers the same value, or FAIL; on FAIL (or for a schema using
 * anything not listed below) `parseInput` runs zod itself, whose issues name the error. So zod stays
 * the one definition of every input and of every error message; this only skips its walk when the
 * input is valid. test/fast-parse.test.ts compares both on valid and invalid inputs of every
 * TenantDB input schema.
 *
 * Supported: object (strip mode: unknown keys dropped), string (min/max length; `z.regex`; email,
 * ISO date and date-time formats by zod's own pattern), number and safe integer (inclusive or exclusive
 * bounds), boolean, enum, optional, nullable, union, unknown. Anything else (refinements, coercion,
 * defaults, transforms, other formats or checks) makes the whole schema fall back to zod.
 */
export const FAIL: unique symbol = Symbol("fail");
type Check = (value: unknown) => unknown | typeof FAIL;

const compiled = new WeakMap<object, Check | null>();

/** The closure of `schema`, or undefined when it uses something this file does not build. */
export function fastParser(schema: z.ZodMiniType): Check | undefined {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = build(schema) ?? null;
    compiled.set(schema, check);
  }
  return check ?? undefined;
}

interface Def {
  type: string;
  coerce?: boolean;
  checks?: { _zod: { def: CheckDef } }[];
  format?: string;
  check?: string;
  pattern?: RegExp;
  entries?: Record<string, unknown>;
  shape?: Record<string, z.ZodMiniType>;
  catchall?: unknown;
  innerType?: z.ZodMiniType;
  options?: z.ZodMiniType[];
}

interface CheckDef {
  check: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: unknown;
}

const FORMATS = new Set(["email", "date", "datetime"]);

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } })?._zod?.def;
}

function build(schema: unknown): Check | undefined {
  const def = defOf(schema);
  if (!def || def.coerce) return undefined;
  switch (def.type) {
    case "object":
      return buildObject(def);
    case "string":
      return buildString(def);
    case "number":
      return buildNumber(def);
    case "enum": {
      if (def.checks?.length || !def.entries) return undefined;
      const values = new Set(Object.values(def.entries));
      return (v) => (values.has(v) ? v : FAIL);
    }
    case "optional": {
      const inner = def.checks?.length ? undefined : build(def.innerType);
      return inner && ((v) => (v === undefined ? v : inner(v)));
    }
    case "nullable": {
      const inner = def.checks?.length ? undefined : build(def.innerType);
      return inner && ((v) => (v === null ? v : inner(v)));
    }
    case "union": {
      const options = (def.checks?.length ? [] : (def.options ?? [])).map(build);
      if (options.length === 0 || options.some((o) => o === undefined)) return undefined;
      const checks = options as Check[];
      return (v) => {
        for (const option of checks) {
          const out = option(v);
          if (out !== FAIL) return out;
        }
        return FAIL;
      };
    }
    case "boolean":
      return def.checks?.length ? undefined : (v) => (typeof v === "boolean" ? v : FAIL);
    case "unknown":
      return def.checks?.length ? undefined : (v) => v;
    default:
      return undefined;
  }
}

function buildObject(def: Def): Check | undefined {
  if (def.catchall !== undefined || def.checks?.length || !def.shape) return undefined;
  const fields: [string, Check, boolean][] = [];
  for (const [key, field] of Object.entries(def.shape)) {
    const check = build(field);
    if (!check || key === "__proto__") return undefined;
    fields.push([key, check, defOf(field)?.type === "optional"]);
  }
  return (input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return FAIL;
    const out: Record<string, unknown> = {};
    const record = input as Record<string, unknown>;
    for (let i = 0; i < fields.length; i++) {
      const [key, check, optional] = fields[i];
      const value = record[key];
      if (value === undefined) {
        if (!optional) return FAIL;
        if (key in record) out[key] = undefined;
        continue;
      }
      const parsed = check(value);
      if (parsed === FAIL) return FAIL;
      out[key] = parsed;
    }
    return out;
  };
}

function buildString(def: Def): Check | undefined {
  const patterns: RegExp[] = [];
  if (def.check !== undefined || def.format !== undefined) {
    if (def.check !== "string_format" || !FORMATS.has(def.format ?? "") || !def.pattern) return undefined;
    patterns.push(def.pattern);
  }
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  const checks = checkDefs(def);
  if (!checks) return undefined;
  for (const c of checks) {
    if (c.check === "min_length" && typeof c.minimum === "number") min = Math.max(min, c.minimum);
    else if (c.check === "max_length" && typeof c.maximum === "number") max = Math.min(max, c.maximum);
    // `z.regex(...)` (order ids, actor names): the pattern as zod tests it.
    else if (c.check === "string_format" && c.format === "regex" && c.pattern instanceof RegExp)
      patterns.push(c.pattern);
    else return undefined;
  }
  return (v) => {
    if (typeof v !== "string" || v.length < min || v.length > max) return FAIL;
    for (let i = 0; i < patterns.length; i++) {
      const pattern = patterns[i];
      pattern.lastIndex = 0;
      if (!pattern.test(v)) return FAIL;
    }
    return v;
  };
}

function buildNumber(def: Def): Check | undefined {
  if (def.check !== undefined && !(def.check === "number_format" && def.format === "safeint"))
    return undefined;
  const integer = def.check === "number_format";
  const bounds: { lo: boolean; value: number; inclusive: boolean }[] = [];
  const checks = checkDefs(def);
  if (!checks) return undefined;
  for (const c of checks) {
    if (typeof c.value !== "number" || typeof c.inclusive !== "boolean") return undefined;
    if (c.check === "greater_than") bounds.push({ lo: true, value: c.value, inclusive: c.inclusive });
    else if (c.check === "less_than") bounds.push({ lo: false, value: c.value, inclusive: c.inclusive });
    else return undefined;
  }
  return (v) => {
    if (typeof v !== "number" || (integer ? !Number.isSafeInteger(v) : !Number.isFinite(v))) return FAIL;
    for (let i = 0; i < bounds.length; i++) {
      const b = bounds[i];
      const ok = b.lo ? (b.inclusive ? v >= b.value : v > b.value) : b.inclusive ? v <= b.value : v < b.value;
      if (!ok) return FAIL;
    }
    return v;
  };
}

/**
 * The checks' definitions, or undefined when one has none. A check's `when` (zod skips the check
 * when it answers false) is ignored: enforcing a check zod would skip only sends the input to zod.
 */
function checkDefs(def: Def): CheckDef[] | undefined {
  const defs = (def.checks ?? []).map((c) => c?._zod?.def);
  return defs.every((d) => d !== undefined) ? (defs as CheckDef[]) : undefined;
}
