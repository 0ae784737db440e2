// The bench's one table (markdown): a row per scenario — our figure, the baseline's, the ratio
// (median, min–max of the per-round ratios, best÷best), the seed's figure and the goals — then a
// row per extra figure a case reports, then a row per bundle size. Used by bench/run.mjs.

const fmt = (x, d = 2) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "-");
const rate = (x) => (x === null ? "" : `, ${Math.round(x).toLocaleString("en")}/s`);
const mark = (met) => (met === null ? "" : met ? " ok" : " **OVER**");

/** Markdown lines of the table, from bench/results.json's `results` and `sizes`. */
export function table(results, sizes = []) {
  const lines = [
    "| scenario | ours (median) | baseline (median) | ratio median (min–max; best÷best) | seed figure | goal |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.scenario} | FAILED: ${r.error.split("\n")[0].replaceAll("|", "\\|")} | | | | |`);
      continue;
    }
    const goals = [];
    if (r.goal !== null) goals.push(`ratio ≤ ${fmt(r.goal)}${mark(r.met)}`);
    if (r.seedGoalPerSecond !== null)
      goals.push(`≥ ${r.seedGoalPerSecond.toLocaleString("en")}/s (2× seed top)${mark(r.seedMet)}`);
    lines.push(
      `| ${r.scenario} | ${fmt(r.frameworkMs, 1)} ms${rate(r.frameworkPerSecond)} | ${fmt(r.baselineMs, 1)} ms${rate(r.baselinePerSecond)} | ${fmt(r.ratio.median)} (${fmt(r.ratio.min)}–${fmt(r.ratio.max)}; ${fmt(r.ratio.bestOverBest)}) | ${r.seed?.figure ?? "-"} | ${goals.join("; ") || "-"} |`,
    );
    for (const [label, value] of Object.entries(r.extra ?? {}))
      lines.push(`| ↳ ${label} | ${value} | | | | |`);
  }
  for (const s of sizes)
    lines.push(
      `| bundle: ${s.label} | ${fmt(s.gzip)} KiB gzip (${fmt(s.raw)} raw) | | | | ${s.goal ? `${s.goal}${mark(s.met)}` : "-"} |`,
    );
  return lines;
}

// `node bench/table.mjs [results file]`: print the table of a past run (bench/results.json unless told).
if (process.argv[1] && (await import("node:url")).fileURLToPath(import.meta.url) === process.argv[1]) {
  const { readFileSync } = await import("node:fs");
  const from = process.argv[2] ?? new URL("results.json", import.meta.url);
  const data = JSON.parse(readFileSync(from, "utf8"));
  console.log(table(data.results, data.sizes ?? []).join("\n"));
}
