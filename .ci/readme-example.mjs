// The README's "Install in your own Worker" files are examples/my-worker's, which CI tests: each one
// must appear in README.md verbatim, under a first line `// <path>` (what follows `:` is a note).
import { readFileSync } from "node:fs";

const files = [
  "src/schema.ts",
  "drizzle.config.ts",
  "src/index.ts",
  "wrangler.jsonc",
  "tsconfig.json",
  "vitest.config.ts",
  "test/notes.test.ts",
];
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const stale = files.filter((file) => {
  const text = readFileSync(new URL(`../examples/my-worker/${file}`, import.meta.url), "utf8").trimEnd();
  return (
    !new RegExp(`\`\`\`\\w+\\n// ${file.replace(/[.]/g, "\\.")}(:[^\\n]*)?\\n`).test(readme) ||
    !readme.includes(`\n${text}\n\`\`\``)
  );
});
if (stale.length) {
  console.error(`README.md does not show examples/my-worker's ${stale.join(", ")} as they are`);
  process.exit(1);
}
console.log(`README.md shows examples/my-worker's ${files.length} files as they are`);
