// `npm run build`: the publishable package in dist/.
//   1. JavaScript: rolldown.config.mjs (one ESM file per "exports" entry, shared code in chunks/).
//   2. Declarations: tsc -p tsconfig.build.json into dist/types/, mirroring the source tree.
//   3. dist/<entry>.d.ts beside each dist/<entry>.js, re-exporting that entry's declarations.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { build } from "rolldown";
import config, { entryPoints } from "../rolldown.config.mjs";

const root = join(dirname(new URL(import.meta.url).pathname), "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

await build(config);

execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});

for (const [name, source] of Object.entries(entryPoints())) {
  const file = join(dist, `${name}.d.ts`);
  const declarations = join(dist, "types", source.replace(/\.ts$/, ".js"));
  let from = relative(dirname(file), declarations);
  if (!from.startsWith(".")) from = `./${from}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `export * from "${from}";\n`);
}
console.log(`built ${Object.keys(entryPoints()).length} entry points in dist/`);
