import { ActorError } from "./errors";

// Interfaces (not one recursive alias), so RPC stub types over them stay shallow for TypeScript.
export type JsonValue = null | boolean | number | string | JsonArray | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
export interface JsonArray extends Array<JsonValue> {}

/** Deepest nesting of arrays and objects accepted (JSON.stringify recurses, so depth costs stack). */
export const MAX_JSON_DEPTH = 64;

/**
 * `JSON.stringify` that refuses what JSON cannot carry back unchanged (functions, symbols,
 * bigints, `undefined` in arrays, NaN/Infinity, Dates, Maps, class instances, cycles, nesting
 * deeper than `MAX_JSON_DEPTH`) instead of silently dropping or converting it, and enforces a size
 * limit (UTF-8 bytes). Anything else that goes wrong reading the value (a throwing getter) is
 * `INVALID_JSON` too: never an untyped error. `undefined` at the top level means "no value" and gives `null`.
 */
export function toJsonText(value: unknown, maxBytes: number, what = "value"): string | null {
  if (value === undefined) return null;
  let text: string;
  try {
    checkJson(value, what);
    text = JSON.stringify(value);
  } catch (err) {
    if (err instanceof ActorError) throw err;
    throw new ActorError(
      "INVALID_JSON",
      `${what} cannot be read as JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const bytes = utf8Length(text);
  if (bytes > maxBytes)
    throw new ActorError("PAYLOAD_TOO_LARGE", `${what} is ${bytes} bytes of JSON; the limit is ${maxBytes}`, {
      bytes,
      limit: maxBytes,
    });
  return text;
}

/** Depth-first over an explicit stack (no recursion, so no stack overflow however deep the value). */
function checkJson(root: unknown, what: string): void {
  // Each entry: a value, its path (built only for an error message) and its depth.
  const stack: { value: unknown; path: () => string; depth: number }[] = [
    { value: root, path: () => what, depth: 0 },
  ];
  // Objects on the current path, for cycles: an object is "open" until its children are done.
  const open = new Set<object>();
  const closers: { value: object; depth: number }[] = [];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    while (closers.length > 0 && closers.at(-1)!.depth >= depth) open.delete(closers.pop()!.value);
    switch (typeof value) {
      case "string":
      case "boolean":
        continue;
      case "number":
        if (!Number.isFinite(value)) throw notJson(path(), "is not a finite number");
        continue;
      case "object": {
        if (value === null) continue;
        if (open.has(value)) throw notJson(path(), "is circular");
        if (depth >= MAX_JSON_DEPTH) throw notJson(path(), `nests deeper than ${MAX_JSON_DEPTH} levels`);
        open.add(value);
        closers.push({ value, depth });
        const children: typeof stack = [];
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const at = () => `${path()}[${i}]`;
            if (value[i] === undefined) throw notJson(at(), "is undefined");
            children.push({ value: value[i], path: at, depth: depth + 1 });
          }
        } else {
          const proto = Object.getPrototypeOf(value);
          if (proto !== Object.prototype && proto !== null)
            throw notJson(path(), `is a ${proto?.constructor?.name ?? "non-plain object"}, not plain JSON`);
          for (const [key, item] of Object.entries(value)) {
            if (item === undefined) continue; // JSON drops undefined properties; so do we
            children.push({ value: item, path: () => `${path()}.${key}`, depth: depth + 1 });
          }
        }
        // Reversed, so children are checked in order (the first bad one is the one reported).
        for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
        continue;
      }
      default:
        throw notJson(path(), `is a ${typeof value}`);
    }
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
