// The event check of RegionalAnalytics.ingest (event.ts, written by hand for speed) against the
// rules as a zod schema states them (the schema ingest used before, kept here as the reference):
// every case is accepted by both or refused by both, on the same field.
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { checkEvent, isIssue } from "../actors/regional-analytics/event";
import { MAX_PROPERTIES_BYTES, pathOf } from "../actors/regional-analytics/inputs";
import { UserHasher } from "../actors/regional-analytics/privacy";

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const token = (max: number) => z.string().check(z.regex(new RegExp(`^[A-Za-z0-9._:/-]{1,${max}}$`)));
const reference = z.object({
  sessionId: token(128),
  eventType: token(64),
  pageUrl: text(2048).check(z.refine((value) => pathOf(value) !== null)),
  timestamp: z.union([z.iso.datetime({ offset: true }), z.int().check(z.gte(0), z.lte(8.64e15))]),
  userId: z.optional(text(256)),
  ipAddress: z.optional(z.union([z.ipv4(), z.ipv6()])),
  userAgent: z.optional(text(512)),
  referrer: z.optional(text(2048)),
  properties: z.optional(
    z
      .record(z.string(), z.unknown())
      .check(
        z.refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= MAX_PROPERTIES_BYTES),
      ),
  ),
});

const base = {
  sessionId: "s-1.a:b/c_d",
  eventType: "page_view",
  pageUrl: "https://shop.example/p?id=1#top",
  timestamp: 1_764_633_600_000,
};

/** One field changed (undefined removes it). */
const cases: [string, unknown][] = [
  ["sessionId", "x".repeat(128)],
  ["sessionId", "x".repeat(129)],
  ["sessionId", ""],
  ["sessionId", "has space"],
  ["sessionId", "é"],
  ["sessionId", 12],
  ["sessionId", undefined],
  ["eventType", "x".repeat(64)],
  ["eventType", "x".repeat(65)],
  ["eventType", null],
  ["pageUrl", "/"],
  ["pageUrl", "/a?b#c"],
  ["pageUrl", "//evil.example/a"],
  ["pageUrl", "http://x.test"],
  ["pageUrl", "ftp://x.test/a"],
  ["pageUrl", "javascript:alert(1)"],
  ["pageUrl", "relative/path"],
  ["pageUrl", ""],
  ["pageUrl", `/${"a".repeat(2047)}`],
  ["pageUrl", `/${"a".repeat(2048)}`],
  ["pageUrl", 5],
  ["timestamp", 0],
  ["timestamp", 8.64e15],
  ["timestamp", 8.64e15 + 1],
  ["timestamp", -1],
  ["timestamp", 1.5],
  ["timestamp", Number.NaN],
  ["timestamp", "2026-12-02T04:00:00Z"],
  ["timestamp", "2026-12-02T04:00:00.123456Z"],
  ["timestamp", "2026-12-02T04:00:00+05:30"],
  ["timestamp", "2026-12-02T04:00Z"],
  ["timestamp", "2026-12-02T04:00:00"],
  ["timestamp", "2026-02-30T00:00:00Z"],
  ["timestamp", "2024-02-29T00:00:00Z"],
  ["timestamp", "2026-12-02"],
  ["timestamp", "1764633600000"],
  ["timestamp", undefined],
  ["userId", "u"],
  ["userId", "u".repeat(256)],
  ["userId", "u".repeat(257)],
  ["userId", ""],
  ["userId", null],
  ["userId", 42],
  ["ipAddress", "198.51.100.7"],
  ["ipAddress", "256.1.1.1"],
  ["ipAddress", "01.2.3.4"],
  ["ipAddress", "::1"],
  ["ipAddress", "2001:db8::8a2e:370:7334"],
  ["ipAddress", "::ffff:192.0.2.1"],
  ["ipAddress", "::1\n"],
  ["ipAddress", "::@1\\"],
  ["ipAddress", "not-an-ip"],
  ["ipAddress", ""],
  ["userAgent", "a".repeat(512)],
  ["userAgent", "a".repeat(513)],
  ["userAgent", ""],
  ["referrer", "anything at all"],
  ["referrer", "r".repeat(2049)],
  ["properties", {}],
  ["properties", { a: 1, b: { c: [1, "x", null] }, u: undefined }],
  ["properties", { big: "x".repeat(MAX_PROPERTIES_BYTES - 10) }],
  ["properties", { big: "x".repeat(MAX_PROPERTIES_BYTES) }],
  ["properties", { big: "é".repeat(MAX_PROPERTIES_BYTES / 2 - 5) }],
  ["properties", { big: "é".repeat(MAX_PROPERTIES_BYTES / 2) }],
  ["properties", { big: "€".repeat(MAX_PROPERTIES_BYTES / 3 - 4) }],
  ["properties", { big: "€".repeat(MAX_PROPERTIES_BYTES / 3) }],
  ["properties", []],
  ["properties", null],
  ["properties", "text"],
  ["properties", new Date(0)],
];

describe("RegionalAnalytics event check", () => {
  it("accepts and refuses what the zod statement of the rules does, on the same field", () => {
    const inputs: unknown[] = [
      ...cases.map(([field, value]) => ({ ...base, [field]: value })),
      { ...base, extra: "ignored" },
      "not an event",
      null,
      [base],
    ];
    let refused = 0;
    for (const input of inputs) {
      const expected = reference.safeParse(input);
      const got = checkEvent(input);
      const label = JSON.stringify(input)?.slice(0, 120);
      expect(isIssue(got), label).toBe(!expected.success);
      if (!expected.success && isIssue(got)) {
        refused++;
        expect(got.path, label).toBe(expected.error.issues[0].path.join(".") || "event");
        expect(got.message.length, label).toBeGreaterThan(0);
      }
    }
    // The table exercises refusals as well as acceptances.
    expect(refused).toBeGreaterThan(30);
    expect(refused).toBeLessThan(inputs.length - 20);
  });

  it("an accepted event comes out ready to write: path, epoch ms, properties as JSON, absent fields null", () => {
    const got = checkEvent({
      ...base,
      timestamp: "2025-12-02T00:00:00+01:00",
      userId: "u1",
      properties: { a: 1, skip: undefined },
    });
    expect(got).toEqual({
      sessionId: base.sessionId,
      eventType: "page_view",
      pageUrl: base.pageUrl,
      path: "/p",
      at: Date.parse("2025-12-01T23:00:00Z"),
      userId: "u1",
      ipAddress: null,
      userAgent: null,
      referrer: null,
      data: '{"a":1}',
    });
  });

  it("properties that are not plain JSON (a BigInt, a cycle) are refused, not a crash", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const properties of [{ n: 1n }, cyclic])
      expect(checkEvent({ ...base, properties })).toEqual({
        path: "properties",
        message: "must be plain JSON (no BigInt, no cycles)",
      });
  });

  it("hashAll: each event's hash (null without a user id), equal to hash() one by one", async () => {
    const hasher = new UserHasher("0123456789abcdef-salt");
    const ids = ["a", null, "b", "a", null, "c", "b"];
    const got = await hasher.hashAll(ids.map((userId) => ({ userId })));
    const fresh = new UserHasher("0123456789abcdef-salt");
    const one = await Promise.all(ids.map((id) => (id === null ? null : fresh.hash(id))));
    expect(got).toEqual(one);
    expect(new Set(got.filter((h) => h !== null)).size).toBe(3);
    // Remembered now: the same answer again.
    expect(await hasher.hashAll(ids.map((userId) => ({ userId })))).toEqual(one);
  });
});
