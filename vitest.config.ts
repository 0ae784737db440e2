import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";

// drizzle-kit's migrations.js imports .sql files; bundle them as text, as wrangler's `rules` do.
const sqlAsText: Plugin = {
  name: "sql-as-text",
  transform(code, id) {
    if (id.endsWith(".sql")) return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

export default defineConfig({
  plugins: [sqlAsText, cloudflareTest({ wrangler: { configPath: "./test/wrangler.jsonc" } })],
  test: {
    // CI asks for JSON results too, to print its own "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_OUT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_OUT ? { json: process.env.VITEST_JSON_OUT } : undefined,
    include: ["test/**/*.test.ts"],
    // test/node/ runs in Node against a real `wrangler dev` (vitest.node.config.ts).
    exclude: ["test/node/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
