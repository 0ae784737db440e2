import { defineConfig } from "vitest/config";

// The demo pages in Debian's Chromium (playwright-core) against a real `wrangler dev` on loopback.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/browser/build-pages.mjs"],
    // CI asks for JSON results too, to count these tests in its summary line.
    reporters: process.env.VITEST_JSON_OUT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_OUT
      ? { json: `${process.env.VITEST_JSON_OUT}.browser.json` }
      : undefined,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
