// One `wrangler dev` (fresh state) and one Chromium per test file. Test files run in parallel, so
// each takes its own ports: DOSQL_BROWSER_TEST_PORT / _INSPECTOR_PORT plus the file's `offset`
// (pages.test.ts uses offset 0), else free ones.
import type { Browser, BrowserContext } from "playwright-core";
import { startDev, type WranglerDev } from "../node/wrangler-dev.mjs";
import { launch, type WatchedPage, watchedPage } from "./browser";

export interface Session {
  server: WranglerDev;
  browser: Browser;
  /** A new phone-sized context (its own cookies and storage: a second person). */
  context(): Promise<BrowserContext>;
  /** Open `path` in `context`, watched for console errors; expects a 200. */
  open(context: BrowserContext, path: string): Promise<WatchedPage>;
  stop(): Promise<void>;
}

export async function startSession(offset: number): Promise<Session> {
  const [dev, browser] = await Promise.all([startDev("DOSQL_BROWSER_TEST", offset), launch()]);
  const server = dev.server;
  return {
    server,
    browser,
    context: () => browser.newContext({ viewport: { width: 390, height: 844 } }),
    async open(context, path) {
      const page = await watchedPage(context);
      const res = await page.goto(`${server.url}${path}`, { waitUntil: "networkidle" });
      if (res?.status() !== 200) throw new Error(`${path}: status ${res?.status()}`);
      return page;
    },
    async stop() {
      await browser.close();
      await dev.stop();
    },
  };
}
