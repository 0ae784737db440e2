// The demo pages' scripts: each web/src/<page>.ts that is a page's entry, bundled by esbuild into
// web/js/<page>.js (gitignored; `npm start` and the browser tests run this first).
import { build } from "esbuild";

const pages = ["inventory", "documents", "iot", "analytics", "tenants"];

await build({
  entryPoints: Object.fromEntries(pages.map((p) => [p, `web/src/${p}.ts`])),
  outdir: "web/js",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
console.log(`web/js: ${pages.map((p) => `${p}.js`).join(", ")}`);
