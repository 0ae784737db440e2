// Types for drizzle-kit's `migrations.js` bundles (driver "durable-sqlite"). Add
// `"types": ["dosql-actors/migrations"]` to compilerOptions (or the line
// `/// <reference types="dosql-actors/migrations" />` to any .d.ts), and
// `import migrations from "./drizzle/migrations.js"` is a MigrationBundle.
// (The `.sql` files it imports are declared by `wrangler types` from wrangler.jsonc's Text rule.)
declare module "*/migrations.js" {
  const bundle: import("dosql-actors").MigrationBundle;
  export default bundle;
}
