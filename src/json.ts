import { ActorError } from "./errors";

// Interfaces (not one recursive alias), so RPC stub types over them stay shallow for TypeScript.
export type JsonValue = null | boolean | number | string | JsonArray | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
export interface JsonArray extends Array<JsonValue> {}

/**
 * `JSON.stringify` that refuses what JSON cannot carry back unchanged (functions, symbols,
 * bigints, `undefined` in arrays, NaN/Infinity, Dates, Maps, class instances, cycles) instead of
 * silently dropping or converting it, and enforces a size limit (UTF-8 bytes).
 * `undefined` at the top level means "no value" and gives `null`.
 */
export function toJsonText(value: unknown, maxBytes: number, what = "value"): string | null {
  if (value === undefined) return null;
  checkJson(value, what, new Set());
  const text = JSON.stringify(value);
  const bytes = utf8Length(text);
  if (bytes > maxBytes)
    throw new ActorError("PAYLOAD_TOO_LARGE", `${what} is ${bytes} bytes of JSON; the limit is ${maxBytes}`, {
      bytes,
      limit: maxBytes,
    });
  return text;
}

function checkJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) throw notJson(path, "is not a finite number");
      return;
    case "object": {
      if (value === null) return;
      if (seen.has(value)) throw notJson(path, "is circular");
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === undefined) throw notJson(`${path}[${i}]`, "is undefined");
          checkJson(value[i], `${path}[${i}]`, seen);
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null)
          throw notJson(path, `is a ${proto?.constructor?.name ?? "non-plain object"}, not plain JSON`);
        for (const [key, item] of Object.entries(value)) {
          if (item === undefined) continue; // JSON drops undefined properties; so do we
          checkJson(item, `${path}.${key}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw notJson(path, `is a ${typeof value}`);
  }
}

function notJson(path: string, why: string): ActorError {
  return new ActorError("INVALID_JSON", `${path} ${why}: only JSON values are accepted`, { path });
}

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  // Fast path: ASCII-only strings are one byte per code unit.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking the ASCII range on purpose
  return /^[\u0000-\u007f]*$/.test(text) ? text.length : encoder.encode(text).byteLength;
}
