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
  test: {
    // CI asks for JSON results too, to print its own "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_OUT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_OUT ? { json: process.env.VITEST_JSON_OUT } : undefined,
    projects: [
      {
        // Everything runs inside workerd (real DO SQLite, alarms, sockets, R2)...
        plugins: [sqlAsText, cloudflareTest({ wrangler: { configPath: "./test/wrangler.jsonc" } })],
        test: {
          name: "workerd",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // ...except what must run wrangler itself: the bundle tests (test/node/).
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 300_000,
        },
      },
    ],
  },
});
