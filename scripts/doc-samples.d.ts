// Names the docs' code fragments use without declaring them (scripts/doc-samples.mjs): your `Env`,
// and `schema` / `migrations`, which stand for your own drizzle tables and drizzle-kit bundle
// (here InventorySKU's, so fragments type-check against real tables).
declare const env: Env;
declare const schema: typeof import("../actors/inventory-sku/schema");
declare const migrations: import("../src/index").MigrationBundle;
