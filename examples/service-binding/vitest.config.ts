import { execFileSync } from "node:child_process";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker under test is the front (wrangler.jsonc). The Worker it binds as a service runs
// beside it as an auxiliary Worker, which Miniflare takes as built JavaScript: bundle it first
// with wrangler, exactly as a deploy would.
execFileSync(
  "npx",
  ["wrangler", "deploy", "--dry-run", "-c", "actors.wrangler.jsonc", "--outdir", "dist/actors"],
  {
    stdio: ["ignore", "ignore", "inherit"],
  },
);

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        workers: [
          {
            name: "inventory-actors",
            modules: true,
            scriptPath: "dist/actors/actors.js",
            compatibilityDate: "2026-08-22",
            compatibilityFlags: ["nodejs_compat"],
            durableObjects: { INVENTORY_SKU: { className: "InventorySKU", useSQLite: true } },
          },
        ],
      },
    }),
  ],
});
