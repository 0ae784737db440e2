import type { BrowserContext } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { WatchedPage } from "./browser";
import { useSession } from "./server";

const s = useSession(0); // pages 0, documents 1, iot 2, analytics 3, tenants 4
let context: BrowserContext;

beforeAll(async () => {
  context = await s.context(); // a phone's, shared by this file's tests
});

const open = (path: string): Promise<WatchedPage> => s.open(context, path);

/** Wait until the element's text is `text` (the page updates it asynchronously). */
async function textBecomes(p: WatchedPage, selector: string, text: string, ms = 30_000) {
  await p.waitForFunction(
    ([sel, want]) => document.querySelector(sel)?.textContent === want,
    [selector, text] as const,
    { timeout: ms },
  );
}

const BUILT = ["/demos/inventory", "/demos/documents", "/demos/iot", "/demos/analytics", "/demos/tenants"];

describe("demo pages in Chromium against wrangler dev", () => {
  it("the landing page links every demo, each link answers, with a favicon and no console error", async () => {
    const p = await open("/");
    const links = await p
      .locator("ul.cards a")
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname));
    expect(links).toEqual(BUILT);
    const icon = await p.request.get(`${s.server.url}/favicon.svg`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()["content-type"]).toContain("svg");
    expect(p.problems).toEqual([]);
  });

  it("flash sale: 1,000 concurrent buyers of 100 units end with sold == stock, no oversell", async () => {
    const p = await open("/demos/inventory");
    expect(p.problems).toEqual([]);
    await p.click("#start");
    await textBecomes(p, "#socket", "open");
    expect(await p.textContent("#available")).toBe("100");
    await p.waitForTimeout(600); // a moment between the restock and the buyers, for the time slider
    await p.click("#run");
    const verdict = p.getByTestId("verdict");
    await verdict.locator("xpath=self::*[@data-sold]").waitFor({ timeout: 90_000 });
    const [sold, stock, bought] = await Promise.all(
      ["sold", "stock", "bought"].map((k) => verdict.getAttribute(`data-${k}`)),
    );
    expect({ sold, stock, bought }).toEqual({ sold: "100", stock: "100", bought: "100" });
    expect(await verdict.textContent()).toContain("900 refused");
    expect(await verdict.textContent()).toContain("no oversell");
    // The live gauge followed the socket to the end: nothing available, nothing held.
    await textBecomes(p, "#available", "0");
    expect(await p.textContent("#reserved")).toBe("0");
    expect(await p.textContent("#sold")).toBe("100");
    // The audit log loaded after the run: restock + 100 reserves + 100 confirms.
    await p.locator("#log-table tbody tr").nth(200).waitFor();
    expect(await p.locator("#log-table tbody tr").count()).toBe(201);
    // The time slider between the restock and the first buyer: all 100 available, none sold.
    const sku = await p.textContent("#sku-name");
    const log = (await (await fetch(`${s.server.url}/inventory/${sku}/history?limit=1000`)).json()) as {
      history: { operation: string; timestamp: string }[];
    };
    const restock = Date.parse(log.history.at(-1)!.timestamp);
    const firstBuyer = Date.parse(log.history.at(-2)!.timestamp);
    expect(firstBuyer - restock).toBeGreaterThan(400);
    const slider = p.locator("#when");
    const [from, to] = await Promise.all(["data-from", "data-to"].map((a) => slider.getAttribute(a)));
    const between = (restock + firstBuyer) / 2;
    await slider.fill(String(Math.round((1000 * (between - Number(from))) / (Number(to) - Number(from)))));
    await textBecomes(p, "#at-sold", "0");
    expect(await p.textContent("#at-available")).toBe("100");
    // and at its end, now: everything sold.
    await slider.fill("1000");
    await textBecomes(p, "#at-sold", "100");
    expect(p.problems).toEqual([]);
  });

  it("cart across SKUs: one line short, the order is refused and the other lines are released", async () => {
    const p = await open("/demos/inventory");
    await p.click("#shelves");
    await p.locator("#cart-table tbody tr").nth(2).waitFor();
    await p.click("#checkout"); // mug 1, tee 1, cap 2 of 1
    await p.waitForFunction(() =>
      document.querySelector("#cart-result")?.textContent?.includes("CHECKOUT_FAILED"),
    );
    expect(await p.textContent("#cart-result")).toMatch(/cart-cap-\w+ INSUFFICIENT_STOCK/);
    const rows = async () =>
      p
        .locator("#cart-table tbody tr")
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    await p.waitForFunction(() => document.querySelector("#cart-table td:last-child")?.textContent !== "–");
    const [mug, tee, cap] = await rows();
    // Compensation: mug and tee were reserved, then released; nothing is held and nothing sold.
    expect(mug.slice(0, 4)).toEqual(["mug", "5", "0", "0"]);
    expect(tee.slice(0, 4)).toEqual(["tee", "5", "0", "0"]);
    expect(mug[4]).toMatch(/RESERVE 1 → .*RELEASE 1$/);
    expect(tee[4]).toMatch(/RESERVE 1 → .*RELEASE 1$/);
    expect(cap.slice(0, 5)).toEqual(["cap", "1", "0", "0", "–"]);
    // The refusal is the page's expected answer: Chromium logs the 409 response, nothing else.
    expect(p.problems.filter((m) => !/status of 409/.test(m))).toEqual([]);

    // The same cart with what is on the shelf: every line held.
    await p.locator("#q-cap").fill("1");
    await p.click("#checkout");
    await p.waitForFunction(() => document.querySelector("#cart-result")?.textContent?.includes("RESERVED"));
    await p.waitForFunction(() => document.querySelector("#cart-table td:nth-child(3)")?.textContent === "1");
    const held = await rows();
    expect(held.map((r) => r.slice(0, 4))).toEqual([
      ["mug", "4", "1", "0"],
      ["tee", "4", "1", "0"],
      ["cap", "0", "1", "0"],
    ]);
  });
});
