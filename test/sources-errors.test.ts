import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { defineActor } from "../src/index";
import { sources } from "../src/sources/index";
import {
  CATEGORIES,
  errorOf,
  failure,
  freshSourced,
  makeItems,
  PEER,
  peerStats,
  putPeer,
  sql,
  toNdjson,
} from "./sources-helpers";
import { codeOf } from "./tiering-helpers";

const BAD = {
  "bad.ndjson": ['{"a":1}', '{"a":2}', '{"a": 3,,}', '{"a":4}'].join("\n"),
  "scalar.ndjson": '{"a":1}\n42\n',
  "ragged.csv": "a,b\n1,2\n3\n4,5\n",
  "quote.csv": 'a,b\n1,"never closed\n2,3\n',
  "header.csv": "a,,c\n1,2,3\n",
  "dup.csv": "a,A\n1,2\n",
  "syntax.json": '[{"a":1},{"a":2} {"a":3}]',
  "object.json": '{"rows":[{"a":1}]}',
  "garbage.parquet": "PAR1 this is not parquet at all PAR1",
};

beforeAll(async () => {
  for (const [name, body] of Object.entries(BAD)) {
    await putPeer(`err/${name}`, body, "");
    await env.ARCHIVE.put(`err/${name}`, body);
  }
  await env.ARCHIVE.put("err/latin1.csv", new Uint8Array([0x61, 0x0a, 0xe9, 0x0a]));
  await putPeer("err/items.ndjson", toNdjson(makeItems(600)), "application/x-ndjson");
});

describe("sources: malformed files and bounds", () => {
  it("answers malformed files with SOURCE_BAD_FORMAT naming the source and the line or offset, and stays healthy", async () => {
    const { stub } = freshSourced("err-format");
    await stub.seed("categories", CATEGORIES);
    const cases: [string, RegExp][] = [
      ["bad.ndjson", /line 3/],
      ["scalar.ndjson", /line 2/],
      ["ragged.csv", /expected 2 fields, found 1 at line 3/],
      ["quote.csv", /unterminated/i],
      ["header.csv", /header/],
      ["dup.csv", /twice/],
      ["syntax.json", /offset \d+/],
      ["object.json", /not an array/],
      ["garbage.parquet", /Parquet/],
    ];
    for (const where of ["http", "r2"] as const)
      for (const [file, detail] of cases) {
        const ref = where === "http" ? `${PEER}/files/err/${file}` : `r2://ARCHIVE/err/${file}`;
        const error = await failure(stub, `SELECT count(*) FROM '${ref}'`);
        expect(error?.code, `${where} ${file}`).toBe("SOURCE_BAD_FORMAT");
        expect(error?.message, `${where} ${file}`).toContain(ref);
        expect(error?.message, `${where} ${file}`).toMatch(detail);
        // Healthy: a plain query and a good source still answer, and nothing is left behind.
        expect(await sql(stub, "SELECT count(*) AS n FROM categories")).toEqual([{ n: 4 }]);
        expect(await stub.scratchTables()).toEqual([]);
      }
    expect((await failure(stub, "SELECT * FROM 'r2://ARCHIVE/err/latin1.csv'"))?.message).toMatch(
      /UTF-8 .*offset/,
    );
    expect(await sql(stub, `SELECT count(*) AS n FROM '${PEER}/files/err/items.ndjson'`)).toEqual([
      { n: 600 },
    ]);
  });

  it("refuses a query past maxRows with QUERY_TOO_LARGE (over all its sources) and leaves nothing behind", async () => {
    const { stub } = freshSourced("err-rows", { maxRows: 1_000, chunkRows: 100 });
    const one = `'${PEER}/files/err/items.ndjson'`;
    expect(await sql(stub, `SELECT count(*) AS n FROM ${one}`)).toEqual([{ n: 600 }]);
    expect(await errorOf(stub, `SELECT count(*) FROM ${one} a, ${one} b WHERE a.id = b.id`)).toBe(
      "QUERY_TOO_LARGE",
    );
    expect(await stub.scratchTables()).toEqual([]);
  });

  it("writes only rows a top-level AND condition can keep: maxRows counts those, answers stay exact", async () => {
    const { stub } = freshSourced("err-prune", { maxRows: 100, chunkRows: 64 });
    await putPeer(
      "err/mixed.ndjson",
      ['{"v":1}', '{"v":"5"}', '{"v":5}', '{"v":null}', '{"w":5}', '{"v":"é"}'].join("\n"),
      "",
    );
    for (const format of ["ndjson", "csv"]) {
      const one = `'${PEER}/files/err/items.${format === "csv" ? "csv" : "ndjson"}'`;
      if (format === "csv")
        await putPeer("err/items.csv", (await import("./sources-helpers")).toCsv(makeItems(600)), "text/csv");
      expect(await errorOf(stub, `SELECT count(*) FROM ${one}`), format).toBe("QUERY_TOO_LARGE");
      expect(
        await sql(stub, `SELECT count(*) AS n, sum(id) AS s FROM ${one} WHERE id <= ? AND qty >= 0`, [50]),
        format,
      ).toEqual([{ n: 50, s: 1275 }]);
      expect(
        await sql(
          stub,
          `SELECT count(*) AS n FROM ${one} x WHERE x.category = 'toys' AND x.id BETWEEN 1 AND 200`,
        ),
        format,
      ).toEqual([{ n: 50 }]);
      // An OR widens: nothing may be skipped (and here that is past maxRows).
      expect(await errorOf(stub, `SELECT count(*) FROM ${one} WHERE id <= 50 OR qty = 1`), format).toBe(
        "QUERY_TOO_LARGE",
      );
    }
    // Mixed types: only what SQLite would also drop is skipped.
    const mixed = `'${PEER}/files/err/mixed.ndjson'`;
    expect(await sql(stub, `SELECT typeof(v) AS t FROM ${mixed} WHERE v = 5 ORDER BY t`)).toEqual([
      { t: "integer" },
    ]);
    expect(await sql(stub, `SELECT count(*) AS n FROM ${mixed} WHERE v > 'a'`)).toEqual([{ n: 1 }]);
    expect(await sql(stub, `SELECT count(*) AS n FROM ${mixed} WHERE v >= 1`)).toEqual([{ n: 4 }]);
  });

  it("answers bad references and configs with typed errors", async () => {
    const { stub } = freshSourced("err-ref");
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/x.json#sheet=1'`)).toBe("INVALID_SOURCE");
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/x.json#format=xml'`)).toBe("INVALID_SOURCE");
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/x.csv#columns=a:WIDGET'`)).toBe(
      "INVALID_SOURCE",
    );
    expect(await errorOf(stub, "SELECT * FROM 'r2://ARCHIVE/err/noext'")).toBe("INVALID_SOURCE");
    expect(await errorOf(stub, "SELECT * FROM 'r2://ARCHIVE/../x.csv'")).toBe("INVALID_SOURCE");
    expect(await errorOf(stub, "SELECT * FROM 'r2://ARCHIVE'")).toBe("INVALID_SOURCE");
    for (const bad of [
      { allow: ["https://api.example.com/path"] },
      { allow: ["ftp://x.test"] },
      { maxBytes: -1 },
      { timeout: "soon" },
      { cache: {} },
      { buckets: ["a b"] },
    ])
      expect(await codeOf(() => sources(bad as never)), JSON.stringify(bad)).toBe("INVALID_CONFIG");
    expect(await codeOf(() => defineActor({ schema: {}, sources: {} as never }))).toBe("INVALID_CONFIG");
  });

  it("declared columns type CSV values; an empty file still has its columns", async () => {
    await putPeer("err/zip.csv", "zip,n\n00501,1\n10001,2\n", "text/csv");
    await putPeer("err/empty.csv", "zip,n\n", "text/csv");
    const { stub } = freshSourced("err-columns");
    expect(
      await sql(stub, `SELECT zip, typeof(zip) AS t, n FROM '${PEER}/files/err/zip.csv' ORDER BY n`),
    ).toEqual([
      { zip: "00501", t: "text", n: 1 },
      { zip: "10001", t: "text", n: 2 },
    ]);
    expect(
      await sql(
        stub,
        `SELECT zip, typeof(zip) AS t FROM '${PEER}/files/err/zip.csv#columns=zip:INTEGER,n:INTEGER' ORDER BY n`,
      ),
    ).toEqual([
      { zip: 501, t: "integer" },
      { zip: 10001, t: "integer" },
    ]);
    expect(
      await sql(stub, `SELECT count(*) AS c, count(zip) AS z FROM '${PEER}/files/err/empty.csv'`),
    ).toEqual([{ c: 0, z: 0 }]);
  });
});

describe("sources: the TTL cache", () => {
  it("serves a fresh copy without asking, then revalidates with ETag (304), then sees a new version", async () => {
    const name = `cache/${Date.now()}.ndjson`;
    await putPeer(name, toNdjson(makeItems(10)), "application/x-ndjson");
    const { stub } = freshSourced("cache", { cache: { ttl: 300 } });
    const count = `SELECT count(*) AS n FROM '${PEER}/files/${name}'`;
    expect(await sql(stub, count)).toEqual([{ n: 10 }]);
    expect(await sql(stub, count)).toEqual([{ n: 10 }]);
    expect(await peerStats(name)).toEqual({ hits: 1, conditional: 0, notModified: 0 });
    await new Promise((r) => setTimeout(r, 350));
    expect(await sql(stub, count)).toEqual([{ n: 10 }]);
    expect(await peerStats(name)).toEqual({ hits: 2, conditional: 1, notModified: 1 });
    await putPeer(name, toNdjson(makeItems(12)), "application/x-ndjson");
    await new Promise((r) => setTimeout(r, 350));
    expect(await sql(stub, count)).toEqual([{ n: 12 }]);
    expect(await peerStats(name)).toEqual({ hits: 3, conditional: 2, notModified: 1 });
    const stats = (await stub.stats()) as unknown as {
      sources: { cache: { entries: number; hits: number } };
    };
    expect(stats.sources.cache).toMatchObject({ entries: 1, hits: 1, revalidated: 1 });
    // Without a cache every query fetches.
    const { stub: uncached } = freshSourced("nocache");
    const name2 = `cache/${Date.now()}-b.ndjson`;
    await putPeer(name2, toNdjson(makeItems(3)), "application/x-ndjson");
    await sql(uncached, `SELECT count(*) FROM '${PEER}/files/${name2}'`);
    await sql(uncached, `SELECT count(*) FROM '${PEER}/files/${name2}'`);
    expect((await peerStats(name2)).hits).toBe(2);
  });

  it("keeps at most maxBytes, dropping the least recently used", async () => {
    const size = toNdjson(makeItems(6)).length;
    const maxBytes = Math.floor(size * 1.5);
    const { stub } = freshSourced("cache-lru", { cache: { ttl: "1m", maxBytes, maxEntryBytes: size * 2 } });
    const names = [0, 1, 2].map((i) => `cache/lru-${Date.now()}-${i}.ndjson`);
    for (const n of names) await putPeer(n, toNdjson(makeItems(6)), "application/x-ndjson");
    for (const n of names) await sql(stub, `SELECT count(*) FROM '${PEER}/files/${n}'`);
    const stats = (await stub.stats()) as unknown as {
      sources: { cache: { entries: number; bytes: number } };
    };
    expect(stats.sources.cache).toMatchObject({ entries: 1, bytes: size });
    // The newest is served from the cache; the oldest was dropped and is fetched again.
    await sql(stub, `SELECT count(*) FROM '${PEER}/files/${names[2]}'`);
    expect((await peerStats(names[2])).hits).toBe(1);
    await sql(stub, `SELECT count(*) FROM '${PEER}/files/${names[0]}'`);
    expect((await peerStats(names[0])).hits).toBe(2);
    // A body over maxEntryBytes is never kept.
    const { stub: small } = freshSourced("cache-entry", { cache: { ttl: "1m", maxEntryBytes: 100 } });
    await sql(small, `SELECT count(*) FROM '${PEER}/files/${names[1]}'`);
    await sql(small, `SELECT count(*) FROM '${PEER}/files/${names[1]}'`);
    expect((await peerStats(names[1])).hits).toBe(3);
  });
});
