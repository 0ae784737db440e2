// Every ```ts block of README.md and docs/*.md is type-checked (part of `npm run typecheck`), so
// the docs cannot drift from the code: each block is written to .doc-samples/<page>/<n>.ts and
// checked by tsc with the project's settings, `dosql-actors/*` resolving to the source. A block is
// a module of its own: it imports what it uses. Names a fragment may use without declaring them
// (`env`, `schema`, `migrations`, a `ctx`) are declared in scripts/doc-samples.d.ts.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { codeBlocks } from "./markdown-blocks.mjs";

const root = new URL("../", import.meta.url);
const out = new URL(".doc-samples/", root);
// docs/install.md shows examples/my-worker's files, checked as they are by .ci/readme-example.mjs and
// type-checked (against the packed package, with that Worker's own Env) by .ci/example.
const pages = [
  "README.md",
  ...readdirSync(new URL("docs/", root))
    .filter((f) => f.endsWith(".md") && f !== "install.md")
    .map((f) => `docs/${f}`),
];

rmSync(out, { recursive: true, force: true });
const written = [];
for (const page of pages) {
  const blocks = codeBlocks(readFileSync(new URL(page, root), "utf8")).filter((b) => b.lang === "ts");
  blocks.forEach((block, n) => {
    const dir = new URL(`${page.replace(/\.md$/, "").replace(/\//g, "_")}/src/`, out);
    mkdirSync(dir, { recursive: true });
    const file = new URL(`${n + 1}-line-${block.line}.ts`, dir);
    // `export {}` keeps a block without imports a module (its names its own).
    writeFileSync(file, `${block.code}\nexport {};\n`);
    written.push(file);
  });
}
writeFileSync(
  new URL("tsconfig.json", out),
  JSON.stringify(
    {
      extends: "../tsconfig.json",
      compilerOptions: {
        noUnusedLocals: false,
        types: ["@cloudflare/workers-types", "@cloudflare/vitest-plugin/types", "../types/migrations.d.ts"],
      },
      include: ["**/*.ts", "../types", "../scripts/doc-samples.d.ts"],
      exclude: [],
    },
    null,
    2,
  ),
);
try {
  execFileSync(
    process.execPath,
    [
      new URL("node_modules/typescript/bin/tsc", root).pathname,
      "--noEmit",
      "-p",
      new URL("tsconfig.json", out).pathname,
    ],
    {
      stdio: "inherit",
    },
  );
} catch {
  console.error(
    "doc samples: type errors above (files under .doc-samples/<page>/src/<n>-line-<line of the page>.ts)",
  );
  process.exit(1);
}
console.log(`doc samples: ${written.length} ts blocks of ${pages.length} pages type-check`);
