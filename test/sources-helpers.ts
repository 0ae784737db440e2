import { env, runInDurableObject } from "cloudflare:test";
import { afterEach } from "vitest";
import type { SourcesConfig } from "../src/sources/index";
import { DEFAULT_SOURCES, PEER, type SourcedActor, sourcesConfig } from "./fixtures/sources-actors";
import { codeOf } from "./tiering-helpers";

export { codeOf, PEER };

let seq = 0;

/** A fresh actor with its own name, optionally with its own sources config (and tiering too). */
export function freshSourced(prefix: string, config?: SourcesConfig, withTiering = false) {
  sourcesConfig.current = { ...DEFAULT_SOURCES, ...config };
  sourcesConfig.withTiering = withTiering;
  const name = `${prefix}-${Date.now().toString(36)}-${seq++}`;
  return { name, stub: env.SOURCED.getByName(name) };
}

afterEach(() => {
  sourcesConfig.current = DEFAULT_SOURCES;
  sourcesConfig.withTiering = false;
});

/** `this.query` inside the actor (an async RPC rejection would be reported as unhandled: see codeOf). */
export function sql<T = Record<string, unknown>>(
  stub: DurableObjectStub<SourcedActor>,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return runInDurableObject(stub, async (a) => (await a.query(text, params as never)) as T[]);
}

/** The error code of a query, or undefined when it succeeded. */
export function errorOf(stub: DurableObjectStub<SourcedActor>, text: string, params: unknown[] = []) {
  return codeOf(() => sql(stub, text, params));
}

/** The whole error of a query (code and message). */
export async function failure(stub: DurableObjectStub<SourcedActor>, text: string, params: unknown[] = []) {
  try {
    await sql(stub, text, params);
  } catch (err) {
    const { ActorError } = await import("../src/index");
    const e = ActorError.from(err);
    return { code: e?.code, message: e?.description ?? String(err), details: e?.details };
  }
  return undefined;
}

/** Store a file on the peer Worker (a real HTTP PUT, routed like every outbound fetch). */
export async function putPeer(name: string, body: BodyInit, contentType: string): Promise<void> {
  const res = await fetch(`${PEER}/files/${encodeURIComponent(name)}`, {
    method: "PUT",
    body,
    headers: { "x-content-type": contentType },
  });
  if (res.status !== 201) throw new Error(`peer PUT ${name}: ${res.status}`);
}

export async function peerStats(
  name: string,
): Promise<{ hits: number; conditional: number; notModified: number }> {
  return (await fetch(`${PEER}/stats/${encodeURIComponent(name)}`)).json();
}

export interface Item {
  id: number;
  name: string;
  category: string;
  price: number;
  qty: number;
  day: string;
}

export const CATEGORIES = [
  { name: "tools", label: "Tools" },
  { name: "toys", label: "Toys" },
  { name: "food", label: "Food" },
  { name: "books", label: "Books" },
];

/** `count` items; some names need CSV quoting (comma, quote, newline). Prices are exact in binary. */
export function makeItems(count: number, first = 1): Item[] {
  const items: Item[] = [];
  for (let id = first; id < first + count; id++)
    items.push({
      id,
      name: id % 50 === 0 ? `He said "hi", then\nleft ${id}` : `item-${id}`,
      category: CATEGORIES[id % CATEGORIES.length].name,
      price: (id % 40) * 0.25 + 0.5,
      qty: id % 7,
      day: `2026-11-${String((id % 28) + 1).padStart(2, "0")}`,
    });
  return items;
}

export const ITEM_COLUMNS = ["id", "name", "category", "price", "qty", "day"] as const;

export function toCsv(items: Item[]): string {
  const cell = (v: unknown) => {
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${ITEM_COLUMNS.join(",")}\n${items.map((it) => ITEM_COLUMNS.map((c) => cell(it[c])).join(",")).join("\n")}\n`;
}

export function toNdjson(items: Item[]): string {
  return `${items.map((it) => JSON.stringify(it)).join("\n")}\n`;
}

export async function toParquet(items: Item[], rowGroupSize = 100): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import("hyparquet-writer/src/index.js");
  const col = <K extends keyof Item>(name: K) => items.map((it) => it[name]);
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: "id", data: col("id"), type: "INT32" },
        { name: "name", data: col("name"), type: "STRING" },
        { name: "category", data: col("category"), type: "STRING" },
        { name: "price", data: col("price"), type: "DOUBLE" },
        { name: "qty", data: col("qty"), type: "INT32" },
        { name: "day", data: col("day"), type: "STRING" },
      ] as never,
      statistics: true,
      rowGroupSize,
    }),
  );
}
