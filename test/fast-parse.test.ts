import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import * as inventory from "../actors/inventory-sku/inputs";
import * as inputs from "../actors/tenant-db/inputs";
import { FAIL, fastParser } from "../src/coordinator/fast-parse";
import { parseInput } from "../src/coordinator/validate";
import { ActorError } from "../src/errors";

/** Deterministic pseudo-random numbers (a failure reproduces). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Values near every edge the TenantDB schemas draw: ids, priorities, lengths, emails, dates, enums.
const VALUES: unknown[] = [
  undefined,
  null,
  0,
  -0,
  1,
  2,
  -1,
  1.5,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  -1_000_000,
  -1_000_001,
  1_000_000,
  1_000_001,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "1",
  "",
  "a",
  "x".repeat(200),
  "x".repeat(201),
  "x".repeat(254),
  "x".repeat(10_000),
  "x".repeat(10_001),
  "a@x.io",
  `${"a".repeat(250)}@x.io`,
  "not-an-email",
  "a@b",
  "2026-12-01",
  "2026-02-30",
  "2026-12-01T10:00:00Z",
  "2026-12-01T10:00:00+02:00",
  "2026-12-01T10:00:00",
  "todo",
  "in_progress",
  "done",
  "paused",
  "owner",
  "admin",
  "member",
  "active",
  "archived",
  true,
  false,
  [],
  {},
  [1],
  10n,
];

function randomInput(rand: () => number, keys: string[]): unknown {
  const r = rand();
  if (r < 0.03) return VALUES[Math.floor(rand() * VALUES.length)];
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const p = rand();
    if (p < 0.3) continue; // absent
    out[key] = VALUES[Math.floor(rand() * VALUES.length)];
  }
  if (rand() < 0.1) out.extra = "dropped";
  // Mostly-valid inputs too: take valid values for every key, then maybe spoil one.
  return out;
}

/** Every TenantDB input schema but archiveTasksInput (its ages are a refinement: zod checks those). */
const schemas = (Object.entries(inputs) as [string, unknown][]).filter(
  (e): e is [string, z.ZodMiniType] =>
    typeof (e[1] as { safeParse?: unknown }).safeParse === "function" && e[0] !== "archiveTasksInput",
);

describe("parseInput's closures (fast-parse.ts) answer exactly what zod answers", () => {
  it("every TenantDB input schema has a closure", () => {
    expect(schemas.length).toBeGreaterThanOrEqual(10);
    for (const [name, schema] of schemas) expect(fastParser(schema), name).toBeTypeOf("function");
  });

  it("random inputs: accepted by the closure exactly when zod accepts, with zod's value", () => {
    const rand = lcg(15);
    let accepted = 0;
    for (const [name, schema] of schemas) {
      const def = (schema as unknown as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def;
      const keys = def.shape ? Object.keys(def.shape) : [];
      const fast = fastParser(schema)!;
      for (let i = 0; i < 4_000; i++) {
        const input =
          def.shape === undefined ? VALUES[Math.floor(rand() * VALUES.length)] : randomInput(rand, keys);
        const zod = schema.safeParse(input);
        const mine = fast(input);
        const label = `${name} ${String(JSON.stringify(input, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)))}`;
        expect(mine !== FAIL, label).toBe(zod.success);
        if (zod.success) {
          accepted++;
          expect(mine, label).toStrictEqual(zod.data);
          // Present-but-undefined keys stay present, as zod keeps them.
          if (mine && typeof mine === "object")
            expect(Object.keys(mine), label).toEqual(Object.keys(zod.data as object));
        }
      }
    }
    expect(accepted).toBeGreaterThan(1_000); // the comparison saw valid inputs, not only refusals
  });

  it("hand-picked edges: bounds, formats, nullables, unions, extra keys", () => {
    const cases: [z.ZodMiniType, unknown][] = [
      [inputs.idInput, { id: Number.MAX_SAFE_INTEGER }],
      [inputs.idInput, { id: Number.MAX_SAFE_INTEGER + 2 }],
      [inputs.idInput, { id: 0 }],
      [inputs.updateTaskInput, { id: 1, assignee_id: null, due_date: null, description: null }],
      [inputs.updateTaskInput, { id: 1, due_date: "2026-02-29" }],
      [inputs.updateTaskInput, { id: 1, due_date: "2028-02-29" }],
      [inputs.updateTaskInput, { id: 1, due_date: "2026-12-01T10:00:00.123Z" }],
      [inputs.updateTaskInput, { id: 1, priority: -1_000_000 }],
      [inputs.updateTaskInput, { id: 1, priority: 1_000_000.5 }],
      [inputs.createUserInput, { email: "a.b+c@x-y.example", name: "N", role: "admin", extra: 1 }],
      [inputs.createUserInput, { email: "a@x.io", name: "" }],
      [inputs.listTasksInput, { status: undefined }],
      [inputs.listTasksInput, Object.create({ status: "todo" })],
    ];
    for (const [schema, input] of cases) {
      const zod = schema.safeParse(input);
      const mine = fastParser(schema)!(input);
      expect(mine !== FAIL, JSON.stringify(input)).toBe(zod.success);
      if (zod.success) expect(mine).toStrictEqual(zod.data);
    }
  });

  it("schemas it does not build (refinements, records, strict objects, transforms) fall back to zod", () => {
    const refined = z.string().check(z.refine((s) => s.startsWith("a"), "must start with a"));
    const unsupported = [
      refined,
      inputs.archiveTasksInput,
      z.record(z.string(), z.unknown()),
      z.strictObject({ a: z.int() }),
      z.object({ a: refined }),
      z.url(),
      z._default(z.int(), 3),
    ];
    for (const schema of unsupported) expect(fastParser(schema as z.ZodMiniType)).toBeUndefined();
    // parseInput still validates through zod, with zod's message.
    expect(parseInput(refined, "abc")).toBe("abc");
    let error: ActorError | undefined;
    try {
      parseInput(refined, "xyz");
    } catch (err) {
      error = ActorError.from(err);
    }
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(error?.description).toContain("must start with a");
  });

  it("an invalid input still gets zod's typed error naming the field", () => {
    let error: ActorError | undefined;
    try {
      parseInput(inputs.updateTaskInput, { id: 1, priority: 2_000_000 });
    } catch (err) {
      error = ActorError.from(err);
    }
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(error?.description).toMatch(/^priority: /);
  });
});

// Order ids follow the actor-name rule, a regex check (`z.regex`): its edges.
const NAMES: unknown[] = [
  "o-1",
  "A.b_c-9",
  ".",
  "..",
  "...",
  ".a",
  "a b",
  "ä",
  "a/b",
  "x".repeat(128),
  "x".repeat(129),
  "k".repeat(15),
  "k".repeat(16),
  "k".repeat(64),
  "k".repeat(65),
  "",
  7,
  null,
  undefined,
  60,
  61,
  10_080,
  10_081,
  1_000_000_000,
  1_000_000_001,
  true,
];

describe("parseInput's closures for InventorySKU's inputs (a regex check on the order id)", () => {
  const single = {
    reserveInput: inventory.reserveInput,
    confirmInput: inventory.confirmInput,
    releaseInput: inventory.releaseInput,
    restockInput: inventory.restockInput,
    orderId: inventory.orderId,
  };

  it("reserve, confirm, release, restock and the order id have closures", () => {
    for (const [name, schema] of Object.entries(single))
      expect(fastParser(schema), name).toBeTypeOf("function");
  });

  it("random inputs: accepted by the closure exactly when zod accepts, with zod's value", () => {
    const rand = lcg(13);
    let accepted = 0;
    for (const [name, schema] of Object.entries(single)) {
      const shape = (schema as unknown as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def
        .shape;
      const fast = fastParser(schema)!;
      for (let i = 0; i < 4_000; i++) {
        let input: unknown = NAMES[Math.floor(rand() * NAMES.length)];
        if (shape) {
          const out: Record<string, unknown> = {};
          for (const key of Object.keys(shape))
            if (rand() < 0.8) out[key] = NAMES[Math.floor(rand() * NAMES.length)];
          input = out;
        }
        const zod = schema.safeParse(input);
        const mine = fast(input);
        const label = `${name} ${JSON.stringify(input)}`;
        expect(mine !== FAIL, label).toBe(zod.success);
        if (zod.success) {
          accepted++;
          expect(mine, label).toStrictEqual(zod.data);
        }
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it("a bad order id still gets zod's typed error naming the field", () => {
    let error: ActorError | undefined;
    try {
      parseInput(inventory.reserveInput, { orderId: "..", quantity: 1 });
    } catch (err) {
      error = ActorError.from(err);
    }
    expect(error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(error?.description).toMatch(/^orderId: must be 1-128 characters/);
  });
});
