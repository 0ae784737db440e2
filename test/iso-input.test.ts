import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { parseInput } from "../src/coordinator/validate";
import { ActorError } from "../src/errors";
import { isoDate, isoDateTime } from "../src/iso-input";

// src/iso-input.ts builds the two ISO schemas without the `z.iso` namespace: they must be zod's own.
const INPUTS: unknown[] = [
  "2026-03-01",
  "2026-02-29",
  "2028-02-29",
  "2026-13-01",
  "2026-03-01T10:00:00Z",
  "2026-03-01T10:00:00.123Z",
  "2026-03-01T10:00:00+02:00",
  "2026-03-01T10:00:00+0200",
  "2026-03-01T10:00:00",
  "2026-03-01T10:00Z",
  "2026-03-01 10:00:00Z",
  "",
  5,
  null,
  undefined,
];

function outcome(schema: z.ZodMiniType, value: unknown): unknown {
  try {
    return { ok: parseInput(schema, value) };
  } catch (err) {
    return { error: ActorError.from(err)?.description };
  }
}

describe("iso-input", () => {
  it("isoDateTime and isoDate are z.iso.datetime({ offset: true }) and z.iso.date()", () => {
    const pairs: [z.ZodMiniType, z.ZodMiniType][] = [
      [isoDateTime(), z.iso.datetime({ offset: true })],
      [isoDate(), z.iso.date()],
    ];
    for (const [mine, zods] of pairs) {
      expect(mine.constructor).toBe(zods.constructor);
      expect(mine._zod.def).toEqual(zods._zod.def);
      // Same answers and the same messages, through the coordinator's parseInput.
      for (const value of INPUTS) expect(outcome(mine, value), String(value)).toEqual(outcome(zods, value));
    }
    expect(outcome(isoDateTime(), "2026-03-01T10:00:00+02:00")).toEqual({ ok: "2026-03-01T10:00:00+02:00" });
    expect(outcome(isoDate(), "2026-03-01T10:00:00Z")).toMatchObject({ error: expect.any(String) });
  });
});
