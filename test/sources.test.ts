import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CATEGORIES,
  errorOf,
  freshSourced,
  makeItems,
  PEER,
  putPeer,
  sql,
  toCsv,
  toNdjson,
  toParquet,
} from "./sources-helpers";

const ITEMS = makeItems(600);
const PREFIX = `sources/${Date.now().toString(36)}`;

/** One file per format, on the peer and in R2. */
const FILES = {
  json: {
    body: () => JSON.stringify({ data: { items: ITEMS } }),
    type: "application/json",
    ref: "items.json#path=data.items",
  },
  ndjson: { body: () => toNdjson(ITEMS), type: "application/x-ndjson", ref: "items.ndjson" },
  csv: { body: () => toCsv(ITEMS), type: "text/csv", ref: "items.csv" },
  parquet: { body: () => toParquet(ITEMS), type: "application/vnd.apache.parquet", ref: "items.parquet" },
};
type FormatName = keyof typeof FILES;
const FORMATS = Object.keys(FILES) as FormatName[];

beforeAll(async () => {
  for (const f of FORMATS) {
    const body = await FILES[f].body();
    const name = FILES[f].ref.split("#")[0];
    await putPeer(name, body, FILES[f].type);
    await env.ARCHIVE.put(`${PREFIX}/${name}`, body);
  }
});

/** The same query over a source and over the same rows in a real table. */
const QUERIES: { name: string; sql: (from: string) => string; params: unknown[] }[] = [
  {
    name: "filter",
    sql: (from) => `SELECT id, name, price FROM ${from} WHERE price >= ? AND category = ? ORDER BY id`,
    params: [5, "toys"],
  },
  {
    name: "join with a hot table",
    sql: (from) =>
      `SELECT c.label, count(*) AS n, sum(s.qty) AS q FROM ${from} s JOIN categories c ON c.name = s.category WHERE s.day BETWEEN ? AND ? GROUP BY c.label ORDER BY c.label`,
    params: ["2026-11-05", "2026-11-12"],
  },
  {
    name: "group by",
    sql: (from) =>
      `SELECT category, count(*) AS n, sum(price) AS total, min(name) AS first, max(qty) AS most FROM ${from} GROUP BY category HAVING n > ? ORDER BY total DESC`,
    params: [10],
  },
];

function refOf(format: FormatName, where: "http" | "r2"): string {
  return where === "http"
    ? `'${PEER}/files/${FILES[format].ref}'`
    : `'r2://ARCHIVE/${PREFIX}/${FILES[format].ref}'`;
}

describe("virtual tables", () => {
  for (const where of ["http", "r2"] as const)
    for (const format of FORMATS)
      it(`${format} over ${where}: filters, a join with a hot table and GROUP BY answer as a real table does`, async () => {
        const { stub } = freshSourced(`q-${format}-${where}`);
        await stub.seed("categories", CATEGORIES);
        await stub.seed("items", ITEMS as never);
        for (const q of QUERIES) {
          const expected = await sql(stub, q.sql("items"), q.params);
          expect(expected.length, q.name).toBeGreaterThan(0);
          expect(
            await sql(stub, q.sql(refOf(format, where)), q.params),
            `${format} ${where} ${q.name}`,
          ).toEqual(expected);
        }
        // Every value with its SQLite type, as in the real table (CSV and NDJSON types are sampled).
        const typed = (from: string) =>
          sql(
            stub,
            `SELECT id, typeof(id) AS ti, name, typeof(price) AS tp, price, typeof(qty) AS tq FROM ${from} ORDER BY id`,
          );
        expect(await typed(refOf(format, where))).toEqual(await typed("items"));
        expect(await stub.scratchTables()).toEqual([]);
      });

  it("joins two sources of different formats and a hot table in one statement", async () => {
    const { stub } = freshSourced("q-two");
    await stub.seed("categories", CATEGORIES);
    const rows = await sql<{ label: string; n: number }>(
      stub,
      `SELECT c.label, count(*) AS n FROM ${refOf("csv", "http")} a JOIN ${refOf("parquet", "r2")} b ON b.id = a.id JOIN categories c ON c.name = b.category WHERE a.qty = ? GROUP BY c.label ORDER BY c.label`,
      [3],
    );
    const expected = CATEGORIES.map((c) => ({
      label: c.label,
      n: ITEMS.filter((it) => it.qty === 3 && it.category === c.name).length,
    })).sort((x, y) => (x.label < y.label ? -1 : 1));
    expect(rows).toEqual(expected);
  });

  it("reads an R2 glob as one table, and names a glob with no match", async () => {
    const { stub } = freshSourced("q-glob");
    const half = makeItems(50, 10_000);
    await env.ARCHIVE.put(`${PREFIX}/parts/a.ndjson`, toNdjson(half.slice(0, 25)));
    await env.ARCHIVE.put(`${PREFIX}/parts/b.ndjson`, toNdjson(half.slice(25)));
    await env.ARCHIVE.put(`${PREFIX}/parts/c.csv`, toCsv(half));
    const [row] = await sql<{ n: number; s: number }>(
      stub,
      `SELECT count(*) AS n, sum(id) AS s FROM 'r2://ARCHIVE/${PREFIX}/parts/*.ndjson'`,
    );
    expect(row).toEqual({ n: 50, s: half.reduce((a, it) => a + it.id, 0) });
    expect(await errorOf(stub, `SELECT * FROM 'r2://ARCHIVE/${PREFIX}/nothing/*.csv'`)).toBe(
      "SOURCE_NO_MATCH",
    );
    expect(await errorOf(stub, `SELECT * FROM 'r2://ARCHIVE/${PREFIX}/missing.csv'`)).toBe("SOURCE_NO_MATCH");
    expect(await errorOf(stub, `SELECT * FROM 'r2://NOT_BOUND/x.csv'`)).toBe("UNKNOWN_BINDING");
    expect(await errorOf(stub, `SELECT * FROM 'r2://OTHER/x.csv'`)).toBe("SOURCE_NOT_ALLOWED");
  });
});

describe("virtual tables with tiering on the same actor", () => {
  it("tiering reads its archive's *.parquet, sources the rest, in one statement", async () => {
    const { stub } = freshSourced("q-tiered", {}, true);
    await stub.seed("categories", CATEGORIES);
    // A Parquet file tiering did not write: listed and read by tiering (r2 *.parquet is its claim).
    const byTiering = await sql<{ n: number }>(
      stub,
      `SELECT count(*) AS n FROM ${refOf("parquet", "r2")} WHERE qty = ?`,
      [2],
    );
    expect(byTiering).toEqual([{ n: ITEMS.filter((it) => it.qty === 2).length }]);
    const [plan] = await runInDurableObject(stub, (a) =>
      a.tiering.explain(`SELECT count(*) FROM ${refOf("parquet", "r2")}`),
    );
    expect(plan).toMatchObject({ via: "listing", files: 1, rows: ITEMS.length });
    // CSV from R2 and NDJSON over HTTP (sources) with the same Parquet (tiering), joined to a hot table.
    const rows = await sql<{ label: string; n: number }>(
      stub,
      `SELECT c.label, count(*) AS n FROM ${refOf("csv", "r2")} a JOIN ${refOf("ndjson", "http")} b ON b.id = a.id JOIN ${refOf("parquet", "r2")} p ON p.id = a.id JOIN categories c ON c.name = p.category WHERE a.price > ? GROUP BY c.label ORDER BY c.label`,
      [7],
    );
    const expected = CATEGORIES.map((c) => ({
      label: c.label,
      n: ITEMS.filter((it) => it.price > 7 && it.category === c.name).length,
    })).sort((x, y) => (x.label < y.label ? -1 : 1));
    expect(rows).toEqual(expected);
    expect(await stub.scratchTables()).toEqual([]);
  });
});
