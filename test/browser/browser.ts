// Debian's Chromium driven by playwright-core (`npx playwright install` cannot download browsers
// here): each page is watched for console errors, uncaught exceptions and failed requests, and
// photographed on failure.
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = new URL("./screenshots/", import.meta.url);

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

export type WatchedPage = Page & { problems: string[] };

/** A new page that records every console error, page error and failed request into `problems`. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return Object.assign(page, { problems });
}

/** A screenshot named after the test, under test/browser/screenshots/ (gitignored; playwright makes the folder). */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = new URL(`${name.replace(/[^\w.-]+/g, "_")}.png`, SCREENSHOTS).pathname;
  await page.screenshot({ path, fullPage: true }).catch(() => {});
  return path;
}

/** Wait until the element has attribute `data-<name>` set (a page's marker that a step ended). */
export async function dataSet(p: Page, selector: string, name: string, ms = 30_000) {
  await p.locator(selector).locator(`xpath=self::*[@data-${name}]`).waitFor({ timeout: ms });
}
