// pathOf (actors/regional-analytics/inputs.ts) remembers the path of each URL up to its first `?`
// or `#`: page URLs repeat with other query strings, and parsing the URL was the larger part of
// an event's check. The path must be the one the URL parser gives for the whole URL, whatever was
// asked before: every case here is asked twice, in an order that puts URLs with the same text
// before their query (and URLs that differ only after it) next to each other.
import { describe, expect, it } from "vitest";
import { pathOf } from "../actors/regional-analytics/inputs";

/** What pathOf answered before it remembered anything: the URL parser's path of an http(s) URL. */
function parsedPath(value: string): string | null {
  if (value.startsWith("/") && !value.startsWith("//")) {
    const end = value.search(/[?#]/);
    return end === -1 ? value : value.slice(0, end);
  }
  const url = URL.parse(value);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") ? url.pathname : null;
}

const URLS = [
  "https://shop.example/p1?ref=1",
  "https://shop.example/p1?ref=2#top",
  "https://shop.example/p1#frag?not-a-query",
  "https://shop.example/p1",
  "https://shop.example/p1/",
  "https://shop.example/p1/../p2?x",
  "https://shop.example/./a/./b/?y",
  "https://shop.example/%7e/caf%C3%A9?z",
  "https://shop.example/café/ü?z",
  "https://shop.example/a b?c d",
  "https://shop.example/a\tb?c",
  "https://shop.example/a\nb#c",
  "  https://shop.example/trim  ",
  "https://shop.example/trim \u0001?x",
  "\u0000https://shop.example/lead?x",
  "https://shop.example\\back\\slash?q",
  "HTTPS://SHOP.EXAMPLE/Upper?Q",
  "https://user:pw@shop.example/secret?q",
  "https://us?er@shop.example/p",
  "https://us#er@shop.example/p",
  "https://shop.example:8443/port?x",
  "https://shop.example:99999/bad-port?x",
  "https://[::1]/v6?x",
  "https://[::1?]/v6",
  "https://shop.example?only-query",
  "https://shop.example#only-fragment",
  "https://?x",
  "https://#x",
  "http://shop.example/plain?x",
  "ftp://shop.example/file?x",
  "ftp://shop.example/file",
  "javascript:alert('?')",
  "mailto:a@b.test?subject=x",
  "https?://shop.example/p",
  "https:shop.example/no-slashes?x",
  "https:/shop.example/one-slash#x",
  "//shop.example/protocol-relative?x",
  "/relative/path?x",
  "/relative/path#x",
  "/relative/path",
  "relative/no-slash?x",
  "",
  "?",
  "#",
];

describe("RegionalAnalytics pathOf: the URL parser's path, remembered by the text before the query", () => {
  it("every URL, asked twice in two orders, gives the path of the whole URL", () => {
    const asked = [...URLS, ...URLS.toReversed(), ...URLS.map((u) => `${u}?again`), ...URLS];
    for (const url of asked) expect([url, pathOf(url)]).toEqual([url, parsedPath(url)]);
    // The cases reach both answers: paths and refusals.
    expect(URLS.filter((u) => parsedPath(u) === null).length).toBeGreaterThan(5);
    expect(new Set(URLS.map(parsedPath)).size).toBeGreaterThan(15);
  });

  it("many distinct URLs (more than it remembers) keep their paths", () => {
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 3_000; i++) {
        const url = `https://shop.example/p${i}/${i % 7 === 0 ? ".." : "x"}?ref=${round}`;
        expect(pathOf(url)).toBe(parsedPath(url));
      }
  });
});
