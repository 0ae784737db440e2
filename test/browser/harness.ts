// What every browser test file shares: the one wrangler dev (test/browser/server.mjs), a Chromium
// with a phone's viewport, a watched page per test, a screenshot of a failing test.
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import { launch, screenshot, type WatchedPage, watchedPage } from "./browser";

declare module "vitest" {
  export interface ProvidedContext {
    serverUrl: string;
  }
}

/** The server's URL (wrangler dev on 127.0.0.1). */
export const serverUrl = () => inject("serverUrl");

/** Set up Chromium for this file; `open(path)` gives a watched page, closed after each test. */
export function usePages() {
  let browser: Browser;
  let context: BrowserContext;
  let page: WatchedPage | undefined;
  beforeAll(async () => {
    browser = await launch();
    context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone's
  });
  afterAll(async () => {
    await browser?.close();
  });
  // On failure, the page as it was: test/browser/screenshots/<test name>.png.
  afterEach(async (ctx) => {
    if (page && ctx.task.result?.state === "fail")
      console.log(`screenshot: ${await screenshot(page, ctx.task.name)}`);
    await page?.close();
    page = undefined;
  });
  return async function open(path: string): Promise<WatchedPage> {
    page = await watchedPage(context);
    const res = await page.goto(`${serverUrl()}${path}`, { waitUntil: "networkidle" });
    expect(res?.status(), path).toBe(200);
    return page;
  };
}

/** Wait until the element's text is `text` (the page updates it asynchronously). */
export async function textBecomes(p: WatchedPage, selector: string, text: string, ms = 30_000) {
  await p.waitForFunction(
    ([sel, want]) => document.querySelector(sel)?.textContent === want,
    [selector, text] as const,
    { timeout: ms },
  );
}

/** Wait until the element has attribute `data-<name>` set. */
export async function dataSet(p: WatchedPage, selector: string, name: string, ms = 30_000) {
  await p.locator(selector).locator(`xpath=self::*[@data-${name}]`).waitFor({ timeout: ms });
}
