// The bench's one table (markdown): a row per scenario — our figure, the baseline's, the ratio
// (median, min–max of the per-round ratios, best÷best; then the median CPU ratio of the workerd
// processes when the run read it, bench/cpu.mjs), the seed's figure and the goals, each
// judged "met" or "missed" — then a row per extra figure a case reports (an extra may carry its
// own goal: `{ value, goal, met }`, see bench/goal.mjs), a row per bundle size, and the run's time
// against the issue's limit. Used by bench/run.mjs.

const fmt = (x, d = 2) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "-");
const rate = (x) => (x === null ? "" : `, ${Math.round(x).toLocaleString("en")}/s`);
const mark = (met) => (met === null || met === undefined ? "" : met ? " met" : " **missed**");

/** The issue's limits on a whole run: `npm run bench` under 15 minutes, `--quick` under 2. */
export const RUN_LIMIT_SECONDS = { full: 15 * 60, quick: 2 * 60 };

/** The run-time row's figures for a results.json (`run`: its top-level fields), or null. */
export function runTime(run) {
  if (!run || typeof run.seconds !== "number") return null;
  // A filtered run, or one whose rounds BENCH_ROUNDS set, is not what the limits are for.
  const judged = !run.filter && !run.roundsFromEnv;
  const limit = !judged ? null : run.quick ? RUN_LIMIT_SECONDS.quick : RUN_LIMIT_SECONDS.full;
  const minutes = `${Math.floor(run.seconds / 60)} min ${run.seconds % 60} s`;
  return { seconds: run.seconds, minutes, limit, met: limit === null ? null : run.seconds <= limit };
}

/** Markdown lines of the table, from bench/results.json's `results`, `sizes` and top-level fields. */
export function table(results, sizes = [], run = null) {
  const lines = [
    "| scenario | ours (median) | baseline (median) | ratio median (min–max; best÷best; CPU ratio) | seed figure | goal |",
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
    const took = typeof r.seconds === "number" ? `; ${r.seconds} s` : "";
    const cpu = r.cpu ? `; CPU ${fmt(r.cpu.ratio.median)}` : "";
    lines.push(
      `| ${r.scenario} | ${fmt(r.frameworkMs, 1)} ms${rate(r.frameworkPerSecond)} | ${fmt(r.baselineMs, 1)} ms${rate(r.baselinePerSecond)} | ${fmt(r.ratio.median)} (${fmt(r.ratio.min)}–${fmt(r.ratio.max)}; ${fmt(r.ratio.bestOverBest)}${took}${cpu}) | ${r.seed?.figure ?? "-"} | ${goals.join("; ") || "-"} |`,
    );
    for (const [label, value] of Object.entries(r.extra ?? {})) {
      const judged = value !== null && typeof value === "object" && "goal" in value;
      lines.push(
        judged
          ? `| ↳ ${label} | ${value.value} | | | | ${value.goal}${mark(value.met)} |`
          : `| ↳ ${label} | ${value} | | | | |`,
      );
    }
  }
  for (const s of sizes)
    lines.push(
      `| bundle: ${s.label} | ${fmt(s.gzip)} KiB gzip (${fmt(s.raw)} raw) | | | | ${s.goal ? `${s.goal}${mark(s.met)}` : "-"} |`,
    );
  const time = runTime(run);
  if (time)
    lines.push(
      `| run time${run.quick ? " (--quick)" : ""}, ${results.length} scenarios at ${run.rounds} rounds${sizes.length ? " + bundle sizes" : ""} | ${time.seconds} s (${time.minutes}) | | | | ${time.limit === null ? `- (${run.filter ? "a filtered run" : "BENCH_ROUNDS set"}: the limit is for the default rounds)` : `≤ ${time.limit / 60} min${mark(time.met)}`} |`,
    );
  return lines;
}

// `node bench/table.mjs [results file]`: print the table of a past run (bench/results.json unless told).
if (process.argv[1] && (await import("node:url")).fileURLToPath(import.meta.url) === process.argv[1]) {
  const { readFileSync } = await import("node:fs");
  const from = process.argv[2] ?? new URL("results.json", import.meta.url);
  const data = JSON.parse(readFileSync(from, "utf8"));
  console.log(table(data.results, data.sizes ?? [], data).join("\n"));
}
