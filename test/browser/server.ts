// One `wrangler dev` (fresh state) and one Chromium per test file. Test files run in parallel, so
// each takes its own ports: DOSQL_BROWSER_TEST_PORT / _INSPECTOR_PORT plus the file's `offset`
// (pages.test.ts uses offset 0), else free ones.
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startDev, type WranglerDev } from "../node/wrangler-dev.mjs";
import { launch, screenshot, type WatchedPage, watchedPage } from "./browser";

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

/**
 * `startSession` wired into the test file's hooks: started before its tests, stopped after them;
 * every page opened during a test is closed after it, and saved as a screenshot first when the
 * test failed (test/browser/screenshots/<test name>[-<n>].png).
 */
export function useSession(
  offset: number,
): Pick<Session, "context" | "open"> & { readonly server: WranglerDev } {
  let session: Session | undefined;
  let opened: WatchedPage[] = [];
  const current = () => {
    if (!session) throw new Error("the browser session has not started");
    return session;
  };
  beforeAll(async () => {
    session = await startSession(offset);
  });
  afterAll(async () => session?.stop());
  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === "fail";
    for (const [i, page] of opened.entries()) {
      if (failed) {
        const name = opened.length > 1 ? `${ctx.task.name}-${i}` : ctx.task.name;
        console.log(`screenshot: ${await screenshot(page, name)}`);
      }
      await page.close();
    }
    opened = [];
  });
  return {
    get server() {
      return current().server;
    },
    context: () => current().context(),
    async open(context, path) {
      const page = await current().open(context, path);
      opened.push(page);
      return page;
    },
  };
}
