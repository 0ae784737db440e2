// The library build (`npm run build`): ESM JavaScript in dist/, one file per package entry point.
//
// The one list of entry points is package.json "exports": every subpath with a "dosql-source"
// condition is built from that source file. To add an entry point, add one "exports" line:
//   "./history": { "dosql-source": "./src/history/index.ts", "types": "./dist/history.d.ts", "default": "./dist/history.js" }
// (types and default are dist/<subpath>.d.ts and dist/<subpath>.js; scripts/build.mjs checks it).
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

/** `{ "actors/inventory-sku": "./actors/inventory-sku/inventory-sku.ts", … }` from package.json "exports". */
export function entryPoints() {
  const entries = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const source = typeof target === "object" ? target["dosql-source"] : undefined;
    if (!source) continue;
    const name = subpath === "." ? "index" : subpath.slice(2);
    const want = { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` };
    if (target.types !== want.types || target.default !== want.default)
      throw new Error(
        `package.json exports["${subpath}"] must be ${JSON.stringify({ "dosql-source": source, ...want })}`,
      );
    entries[name] = source;
  }
  return entries;
}

// Dependencies stay imports (the user's bundler, wrangler, resolves them once for the whole Worker).
const packages = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
const external = (id) =>
  id.startsWith("cloudflare:") ||
  id.startsWith("node:") ||
  builtinModules.includes(id) ||
  packages.some((name) => id === name || id.startsWith(`${name}/`));

export default {
  input: entryPoints(),
  platform: "neutral",
  external,
  // drizzle-kit's migrations.js bundles import .sql files: inline them as strings.
  moduleTypes: { ".sql": "text" },
  treeshake: true,
  output: {
    dir: "dist",
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name]-[hash].js",
    // Names rolldown renames to deconflict (`text$1`) keep their own in stack traces (one helper
    // call in the whole build). Nothing relies on class names at runtime: actors are found by
    // `static exportName` (src/export-name.ts), so a user's wrangler may set `keep_names: false`.
    keepNames: true,
  },
};
