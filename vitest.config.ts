import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";
import pkg from "./package.json" with { type: "json" };

// The repository's own tests import the source: "dosql-actors/<subpath>" resolves to the file its
// package.json "exports" entry names under "dosql-source" (users get the built dist/ instead). A leading "/" is the project root for vite.
const sourceAliases = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === "object" && "dosql-source" in target
    ? [
        {
          find: new RegExp(`^dosql-actors${subpath.slice(1)}$`),
          replacement: target["dosql-source"].slice(1),
        },
      ]
    : [],
);

// drizzle-kit's migrations.js imports .sql files; bundle them as text, as wrangler's `rules` do.
const sqlAsText: Plugin = {
  name: "sql-as-text",
  transform(code, id) {
    if (id.endsWith(".sql")) return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

export default defineConfig({
  resolve: { alias: sourceAliases },
  plugins: [
    sqlAsText,
    cloudflareTest({
      wrangler: { configPath: "./test/wrangler.jsonc" },
      miniflare: {
        // A second Worker, a real HTTP peer for the sources tests (test/peer/source-peer.mjs). The
        // test Worker's global fetch (its Durable Objects' included) goes to it: `outboundService`
        // is Miniflare's "where does fetch() to the internet go", so `fetch("http://peer.test/…")`
        // arrives at the peer's fetch handler as a real request. Service bindings (SELF) are apart.
        workers: [
          {
            name: "source-peer",
            modules: true,
            scriptPath: "./test/peer/source-peer.mjs",
            compatibilityDate: "2026-08-22",
          },
        ],
        outboundService: "source-peer",
      },
    }),
  ],
  test: {
    // CI asks for JSON results too, to print its own "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_OUT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_OUT ? { json: process.env.VITEST_JSON_OUT } : undefined,
    include: ["test/**/*.test.ts"],
    // test/node/ and test/browser/ run in Node against a real `wrangler dev` (vitest.node.config.ts,
    // vitest.browser.config.ts).
    exclude: ["test/node/**", "test/browser/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
