// Fenced code blocks of a Markdown text: the one reader of docs' code samples (.ci/readme-example.mjs
// compares README blocks with examples/my-worker; scripts/doc-samples.mjs type-checks every ```ts block).

/** Every fenced block: its language, its first line, its code, and the line it starts on (1-based). */
export function codeBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1] !== "```") i++;
    const code = lines.slice(start, i + 1).join("\n");
    blocks.push({ lang: open[1], line: start, firstLine: lines[start] ?? "", code });
    i++; // the closing fence
  }
  return blocks;
}
