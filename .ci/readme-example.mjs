// The install guide's files (docs/install.md) are examples/my-worker's, which CI tests: each one
// must appear in a code block of docs/install.md verbatim, under a first line `// <path>` (what
// follows `:` is a note).
import { readFileSync } from "node:fs";
import { codeBlocks } from "../scripts/markdown-blocks.mjs";

const files = [
  "src/schema.ts",
  "drizzle.config.ts",
  "src/index.ts",
  "wrangler.jsonc",
  "tsconfig.json",
  "vitest.config.ts",
  "test/notes.test.ts",
];
const page = "docs/install.md";
const blocks = codeBlocks(readFileSync(new URL(`../${page}`, import.meta.url), "utf8"));
const stale = files.filter((file) => {
  const text = readFileSync(new URL(`../examples/my-worker/${file}`, import.meta.url), "utf8").trimEnd();
  const block = blocks.find((b) => new RegExp(`^// ${file.replace(/[.]/g, "\\.")}(:.*)?$`).test(b.firstLine));
  return !block || block.code.split("\n").slice(1).join("\n") !== text;
});
if (stale.length) {
  console.error(`${page} does not show examples/my-worker's ${stale.join(", ")} as they are`);
  process.exit(1);
}
console.log(`${page} shows examples/my-worker's ${files.length} files as they are`);
