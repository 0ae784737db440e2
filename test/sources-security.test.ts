import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  failure,
  freshSourced,
  makeItems,
  PEER,
  putPeer,
  sql,
  toCsv,
  toNdjson,
} from "./sources-helpers";
import { codeOf } from "./tiering-helpers";

const ITEMS = makeItems(200);
const NDJSON = toNdjson(ITEMS);

beforeAll(async () => {
  await putPeer("sec/items.ndjson", NDJSON, "application/x-ndjson");
  await putPeer("sec/items.csv", toCsv(ITEMS), "text/csv");
  await putPeer("sec/page.json", "<html>not json</html>", "text/html");
  await putPeer("sec/typed", JSON.stringify([{ a: 1 }, { a: 2 }]), "application/json; charset=utf-8");
  await putPeer("sec/plain", "a,b\n1,2\n", "text/plain");
});

const items = `'${PEER}/files/sec/items.ndjson'`;

describe("sources: what may be read", () => {
  it("refuses every remote source and R2 binding by default (SOURCE_NOT_ALLOWED), and an actor without the part", async () => {
    const { stub } = freshSourced("sec-default", { allow: [], buckets: [] });
    const refused = await failure(stub, `SELECT count(*) FROM ${items}`);
    expect(refused?.code).toBe("SOURCE_NOT_ALLOWED");
    expect(refused?.message).toContain(`${PEER}/files/sec/items.ndjson`);
    expect(await errorOf(stub, "SELECT count(*) FROM 'r2://ARCHIVE/x.csv'")).toBe("SOURCE_NOT_ALLOWED");
    // Another origin than the listed one.
    const { stub: listed } = freshSourced("sec-other", { allow: ["https://api.example.com"] });
    expect(await errorOf(listed, `SELECT count(*) FROM ${items}`)).toBe("SOURCE_NOT_ALLOWED");
    expect(await errorOf(listed, "SELECT count(*) FROM 'https://api.example.com.evil.test/x.json'")).toBe(
      "SOURCE_NOT_ALLOWED",
    );
    // Credentials in the URL are refused, never sent.
    expect(await errorOf(listed, "SELECT count(*) FROM 'https://user:pw@api.example.com/x.json'")).toBe(
      "SOURCE_NOT_ALLOWED",
    );
    // Actors without the sources part: https is SOURCES_DISABLED (r2 stays TIERING_DISABLED).
    const plain = env.FIXTURE.getByName(`sec-plain-${Date.now()}`);
    const inside = (text: string) =>
      codeOf(() =>
        runInDurableObject(plain, async (a) => {
          await a.query(text);
        }),
      );
    expect(await inside(`SELECT * FROM 'https://api.example.com/x.json'`)).toBe("SOURCES_DISABLED");
    expect(await inside("SELECT * FROM 'r2://ARCHIVE/x.parquet'")).toBe("TIERING_DISABLED");
  });

  it("refuses private and loopback addresses unless allowPrivate; then they are fetched", async () => {
    const hosts = [
      "http://127.0.0.1:8700",
      "http://localhost:8700",
      "http://[::1]:8700",
      "http://10.1.2.3",
      "http://192.168.0.7",
      "http://169.254.169.254",
      "http://[::ffff:7f00:1]",
    ];
    const { stub } = freshSourced("sec-private", { allow: hosts });
    for (const host of hosts)
      expect(await errorOf(stub, `SELECT count(*) FROM '${host}/files/sec/items.ndjson'`), host).toBe(
        "SOURCE_NOT_ALLOWED",
      );
    // Allowed: the request goes out (the test's outbound fetch reaches the peer whatever the host).
    const { stub: open } = freshSourced("sec-private-ok", { allow: hosts, allowPrivate: true });
    expect(
      await sql(open, `SELECT count(*) AS n FROM 'http://127.0.0.1:8700/files/sec/items.ndjson'`),
    ).toEqual([{ n: 200 }]);
  });

  it("follows redirects within the origin only (SOURCE_REDIRECT_REFUSED), even to another allowed origin", async () => {
    const { stub } = freshSourced("sec-redirect", { allow: [PEER, "http://other.test"] });
    const same = `'${PEER}/redirect/302?to=/files/sec/items.ndjson#format=ndjson'`;
    expect(await sql(stub, `SELECT count(*) AS n FROM ${same}`)).toEqual([{ n: 200 }]);
    const other = `'${PEER}/redirect/307?to=http://other.test/files/sec/items.ndjson#format=ndjson'`;
    const refused = await failure(stub, `SELECT count(*) AS n FROM ${other}`);
    expect(refused?.code).toBe("SOURCE_REDIRECT_REFUSED");
    expect(refused?.message).toContain("http://other.test");
    expect(
      await errorOf(
        stub,
        `SELECT count(*) AS n FROM '${PEER}/redirect/301?to=https://peer.test/x#format=json'`,
      ),
    ).toBe("SOURCE_REDIRECT_REFUSED");
  });

  it("sends no credentials or cookies: only Accept", async () => {
    const { stub } = freshSourced("sec-headers");
    const names = (
      await sql<{ name: string }>(stub, `SELECT name FROM '${PEER}/headers#format=json' ORDER BY name`)
    ).map((r) => r.name);
    expect(names).toContain("accept");
    for (const banned of ["cookie", "authorization", "proxy-authorization"])
      expect(names).not.toContain(banned);
  });

  it("limits bytes per source: by Content-Length, while streaming, and for R2 objects (SOURCE_TOO_LARGE)", async () => {
    const { stub } = freshSourced("sec-bytes", { maxBytes: 4_000 });
    expect(await errorOf(stub, `SELECT count(*) FROM ${items}`)).toBe("SOURCE_TOO_LARGE");
    expect(await errorOf(stub, `SELECT count(*) FROM '${PEER}/big?lines=5000#format=ndjson'`)).toBe(
      "SOURCE_TOO_LARGE",
    );
    await env.ARCHIVE.put("sec/big.ndjson", NDJSON);
    expect(await errorOf(stub, "SELECT count(*) FROM 'r2://ARCHIVE/sec/big.ndjson'")).toBe(
      "SOURCE_TOO_LARGE",
    );
    expect(await stub.scratchTables()).toEqual([]);
    // Under the limit the same streamed source is read whole.
    const { stub: roomy } = freshSourced("sec-bytes-ok", { maxBytes: 1 << 20 });
    expect(
      await sql(roomy, `SELECT count(*) AS n, max(i) AS m FROM '${PEER}/big?lines=5000#format=ndjson'`),
    ).toEqual([{ n: 5000, m: 4999 }]);
  });

  it("limits time per source: slow headers and a stalled body (SOURCE_TIMEOUT)", async () => {
    const { stub } = freshSourced("sec-time", { timeout: 300 });
    const t0 = Date.now();
    expect(
      await errorOf(stub, `SELECT count(*) FROM '${PEER}/slow/sec/items.ndjson?ms=3000#format=ndjson'`),
    ).toBe("SOURCE_TIMEOUT");
    expect(await errorOf(stub, `SELECT count(*) FROM '${PEER}/trickle?ms=3000#format=ndjson'`)).toBe(
      "SOURCE_TIMEOUT",
    );
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(await sql(stub, `SELECT count(*) AS n FROM ${items}`)).toEqual([{ n: 200 }]);
  });

  it("checks the content type against the format, or takes the format from it", async () => {
    const { stub } = freshSourced("sec-type");
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/sec/page.json'`)).toBe(
      "SOURCE_BAD_CONTENT_TYPE",
    );
    expect(await sql(stub, `SELECT sum(a) AS s FROM '${PEER}/files/sec/typed'`)).toEqual([{ s: 3 }]);
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/sec/plain'`)).toBe("SOURCE_BAD_CONTENT_TYPE");
    expect(await sql(stub, `SELECT a, b FROM '${PEER}/files/sec/plain#format=csv'`)).toEqual([
      { a: 1, b: 2 },
    ]);
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/status/500#format=json'`)).toBe("SOURCE_UNREACHABLE");
    expect(await errorOf(stub, `SELECT * FROM '${PEER}/files/sec/none.json'`)).toBe("SOURCE_UNREACHABLE");
  });
});
