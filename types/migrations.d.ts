// Types for drizzle-kit's `migrations.js` bundles (driver "durable-sqlite") and the `.sql` files
// they import. Add `"types": ["dosql-actors/migrations"]` to compilerOptions (or the line
// `/// <reference types="dosql-actors/migrations" />` to any .d.ts) and
// `import migrations from "./drizzle/migrations.js"` is typed as a MigrationBundle.
declare module "*/migrations.js" {
  const bundle: import("dosql-actors").MigrationBundle;
  export default bundle;
}

declare module "*.sql" {
  const text: string;
  export default text;
}
