// `node bench/plot.mjs` (run by bench/run.mjs after every run): bench/ratios.svg from
// bench/results.json — one horizontal bar per scenario, the median framework ÷ baseline ratio on a
// log scale, a whisker from the min to the max per-round ratio, the line at 1 (parity) and each
// scenario's ratio goal as a tick. Plain SVG text, no dependency.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The SVG text for `results` (bench/results.json's `results`). */
export function plot(results, title) {
  const rows = results.filter((r) => !r.error && Number.isFinite(r.ratio?.median) && r.ratio.median > 0);
  const label = 560;
  const width = 1200;
  const plotW = width - label - 30;
  const rowH = 22;
  const top = 56;
  const height = top + rows.length * rowH + 40;
  const lo = Math.log10(0.1);
  const hi = Math.log10(200);
  const clamp = (v) => Math.min(Math.max(v, 0.1), 200);
  const x = (v) => label + ((Math.log10(clamp(v)) - lo) / (hi - lo)) * plotW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="38" fill="#555">median framework ÷ baseline time per scenario (log scale; lower is better; whisker: min–max of the per-round ratios; red tick: the goal)</text>`,
  ];
  for (const v of [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200]) {
    out.push(
      `<line x1="${x(v)}" y1="${top - 6}" x2="${x(v)}" y2="${height - 34}" stroke="${v === 1 ? "#000" : "#ddd"}"/>`,
      `<text x="${x(v)}" y="${height - 20}" text-anchor="middle">${v}×</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const name = r.scenario.length > 92 ? `${r.scenario.slice(0, 90)}…` : r.scenario;
    const over = r.met === false;
    out.push(
      `<text x="${label - 6}" y="${y + 14}" text-anchor="end">${esc(name)}</text>`,
      `<rect x="${Math.min(x(1), x(r.ratio.median))}" y="${y + 4}" width="${Math.abs(x(r.ratio.median) - x(1))}" height="${rowH - 8}" fill="${over ? "#d9534f" : r.ratio.median <= 1 ? "#5cb85c" : "#f0ad4e"}"/>`,
      `<line x1="${x(r.ratio.min)}" y1="${y + 11}" x2="${x(r.ratio.max)}" y2="${y + 11}" stroke="#333"/>`,
      `<text x="${Math.max(x(1), x(r.ratio.median)) + 4}" y="${y + 14}" fill="#333">${r.ratio.median.toFixed(2)}</text>`,
    );
    if (r.goal)
      out.push(
        `<line x1="${x(r.goal)}" y1="${y + 2}" x2="${x(r.goal)}" y2="${y + rowH - 2}" stroke="#c00" stroke-width="2"/>`,
      );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `node bench/plot.mjs [results file]`: bench/results.json unless told; writes the .svg beside it.
  const from = process.argv[2] ?? fileURLToPath(new URL("results.json", import.meta.url));
  const data = JSON.parse(readFileSync(from, "utf8"));
  const title = `DoSQL Actors bench, ${data.date}${data.quick ? " (--quick)" : ""}, ${data.rounds} rounds, load average ${data.machine?.loadAverageAtStart?.join(" ") ?? "?"} at the start, ${data.machine?.loadAverage?.join(" ") ?? "?"} at the end (${data.machine?.cpus ?? "?"} CPUs)`;
  const to = from.replace(/results(\.quick)?\.json$/, (_, q) => `ratios${q ?? ""}.svg`);
  writeFileSync(to, plot(data.results, title));
  console.log(`${to} written`);
}
