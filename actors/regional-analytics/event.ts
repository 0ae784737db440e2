// Named imports only: `z.core` / `z.regexes` off the zod/mini namespace keep the whole core
// namespace, every locale included (+415 KiB minified in the coordinator), and zod's `regexes`
// namespace keeps all of its ~60 regexes (+6.5 KiB minified): the two patterns are read off the
// schemas the other inputs use (isoDateTime, z.ipv4), which set them when built.
import * as z from "zod/mini";
import { isValidIPv6 } from "zod/v4/core";
import { isoDateTime } from "../../src/iso-input";
import { MAX_PROPERTIES_BYTES, pathOf, type TimestampInput } from "./inputs";

// The event check of `ingest`, written out by hand rather than as a zod schema: it runs once per
// event, and zod's interpreted parser (it cannot compile its parsers in workerd, where
// `new Function` is refused) cost ~25 µs an event, more than the event's SQL statements.
// The rules are the documented ones (docs/regional-analytics.md), and the address and date-time
// formats are zod's own (its regexes and its IPv6 test), so they mean what the other inputs mean.

/** An event as sent to `ingest` (unknown keys are ignored). */
export interface EventInput {
  sessionId: string;
  eventType: string;
  /** An http(s) URL or a path from `/`. */
  pageUrl: string;
  timestamp: TimestampInput;
  userId?: string;
  ipAddress?: string;
  userAgent?: string;
  referrer?: string;
  properties?: Record<string, unknown>;
}

/** A checked event: what `ingest` writes (absent optional fields are null). */
export interface Event {
  sessionId: string;
  eventType: string;
  pageUrl: string;
  /** The URL's path without query string or fragment. */
  path: string;
  /** Epoch ms. */
  at: number;
  userId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  referrer: string | null;
  /** The properties as JSON. */
  data: string | null;
}

/** Why an event is refused: the field (dotted path; `event` for the event itself) and a message. */
export interface EventIssue {
  path: string;
  message: string;
}

const TOKEN_CHARS = "A-Z a-z 0-9 . _ : / -";
const TOKEN = /^[A-Za-z0-9._:/-]+$/;
const DATETIME = patternOf(isoDateTime());
const IPV4 = patternOf(z.ipv4());
const MAX_TIMESTAMP = 8.64e15;

/** The regex a zod string format checks (zod sets `def.pattern` when the schema is built). */
function patternOf(schema: { _zod: { def: { pattern?: RegExp } } }): RegExp {
  const pattern = schema._zod.def.pattern;
  if (!pattern) throw new Error("zod string format without a pattern");
  return pattern;
}

const token = (value: unknown, max: number): value is string =>
  typeof value === "string" && value.length >= 1 && value.length <= max && TOKEN.test(value);

/** Absent (undefined), or a string of 1 to `max` characters. */
const optionalText = (value: unknown, max: number): boolean =>
  value === undefined || (typeof value === "string" && value.length >= 1 && value.length <= max);

const isIp = (value: unknown): boolean =>
  typeof value === "string" && (IPV4.test(value) || isValidIPv6(value));

function epochOf(value: unknown): number | null {
  if (typeof value === "number")
    return Number.isInteger(value) && value >= 0 && value <= MAX_TIMESTAMP ? value : null;
  return typeof value === "string" && DATETIME.test(value) ? Date.parse(value) : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** UTF-8 length of a string, counted only when it could be over `max` (a UTF-16 unit is at most 3 bytes). */
function fitsBytes(text: string, max: number): boolean {
  if (text.length * 3 <= max) return true;
  if (text.length > max) return false;
  return new TextEncoder().encode(text).length <= max;
}

/** The properties as JSON, or why not. */
function propertiesJson(value: unknown): string | EventIssue {
  const issue = (message: string) => ({ path: "properties", message });
  if (!isPlainObject(value)) return issue("must be an object");
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return issue("must be plain JSON (no BigInt, no cycles)");
  }
  return fitsBytes(json, MAX_PROPERTIES_BYTES)
    ? json
    : issue(`must be at most ${MAX_PROPERTIES_BYTES} bytes of JSON`);
}

/** Check one event: the event ready to write, or the first field that is wrong. */
export function checkEvent(raw: unknown): Event | EventIssue {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { path: "event", message: "must be an object" };
  const e = raw as Record<string, unknown>;
  if (!token(e.sessionId, 128)) return { path: "sessionId", message: `must be 1-128 of ${TOKEN_CHARS}` };
  if (!token(e.eventType, 64)) return { path: "eventType", message: `must be 1-64 of ${TOKEN_CHARS}` };
  const url = e.pageUrl;
  const path = typeof url === "string" && url.length <= 2048 ? pathOf(url) : null;
  if (path === null)
    return {
      path: "pageUrl",
      message: "must be an http(s) URL or a path starting with /, at most 2048 characters",
    };
  const at = epochOf(e.timestamp);
  if (at === null)
    return {
      path: "timestamp",
      message: "must be epoch milliseconds or an ISO 8601 date-time with Z or an offset",
    };
  if (!optionalText(e.userId, 256))
    return { path: "userId", message: "must be a string of 1-256 characters" };
  if (e.ipAddress !== undefined && !isIp(e.ipAddress))
    return { path: "ipAddress", message: "must be an IPv4 or IPv6 address" };
  if (!optionalText(e.userAgent, 512))
    return { path: "userAgent", message: "must be a string of 1-512 characters" };
  if (!optionalText(e.referrer, 2048))
    return { path: "referrer", message: "must be a string of 1-2048 characters" };
  let data: string | null = null;
  if (e.properties !== undefined) {
    const json = propertiesJson(e.properties);
    if (typeof json !== "string") return json;
    data = json;
  }
  return {
    sessionId: e.sessionId,
    eventType: e.eventType,
    pageUrl: url as string,
    path,
    at,
    userId: (e.userId as string | undefined) ?? null,
    ipAddress: (e.ipAddress as string | undefined) ?? null,
    userAgent: (e.userAgent as string | undefined) ?? null,
    referrer: (e.referrer as string | undefined) ?? null,
    data,
  };
}

/** Whether `checkEvent` refused the event. */
export const isIssue = (checked: Event | EventIssue): checked is EventIssue => "message" in checked;
