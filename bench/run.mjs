// `npm run bench [filter]` (a case file's name, or part of a case's name): starts the bench Worker under `wrangler dev` on loopback (local tracing
// off: X_LOCAL_OBSERVABILITY=false), runs every case in bench/cases/*.mjs, and prints ratios of the
// framework (subject) to a hand-written baseline measured in the same run, interleaved round by round.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { measure } from "../scripts/size.mjs";
import { workerdCpu } from "./cpu.mjs";
import { plot } from "./plot.mjs";
import { QUICK } from "./quick.mjs";
import { table } from "./table.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
// `--quick` (bench/quick.mjs): small N in the cases that read it, 3 rounds unless BENCH_ROUNDS says.
const filter = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 12));
/** Every case's figures, written to bench/results.json at the end. */
const results = [];

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function startWorker() {
  // BENCH_PORT / BENCH_INSPECTOR_PORT pin the ports; otherwise free ones, so a bench never
  // collides with another wrangler dev on the machine.
  const port = Number(process.env.BENCH_PORT) || (await freePort());
  const inspectorPort = Number(process.env.BENCH_INSPECTOR_PORT) || (await freePort());
  const state = mkdtempSync(join(tmpdir(), "dosql-bench-"));
  const child = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "-c",
      "bench/wrangler.jsonc",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: root,
      env: { ...process.env, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      console.error(log);
      throw new Error("wrangler dev did not start");
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    rmSync(state, { recursive: true, force: true });
  };
  return { base, stop, cpu: workerdCpu(child.pid) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cpuFigures = (subj, basl) => {
  const ratios = subj.map((s, i) => s / basl[i]);
  return {
    ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    frameworkMs: median(subj),
    baselineMs: median(basl),
  };
};
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// A side's time for one round: the wall time of its call, unless the call measures itself and
// answers `{ ms }` (a case whose untimed preparation, e.g. evicting an object, is part of the call).
// Beside it, the CPU the call cost the workerd processes (bench/cpu.mjs), when it can be read.
let readCpu;
async function timed(fn, cpuTimes) {
  const c0 = readCpu?.();
  const t0 = performance.now();
  const out = await fn();
  const wall = performance.now() - t0;
  if (c0 !== undefined) cpuTimes.push(readCpu() - c0);
  return typeof out?.ms === "number" && Number.isFinite(out.ms) ? out.ms : wall;
}

async function runCase(base, c) {
  const caseStarted = performance.now();
  // --quick and BENCH_ROUNDS cap every case's rounds (a case may ask for more in a full run).
  const capped = QUICK || process.env.BENCH_ROUNDS !== undefined;
  const rounds = capped ? Math.min(c.rounds ?? ROUNDS, ROUNDS) : (c.rounds ?? ROUNDS);
  // A case preparing state per round (one warm-up round, then `rounds`) is told how many.
  await c.setup?.(base, rounds);
  // Warm both sides (isolate start, table creation, JIT) before measuring. A case whose rounds
  // cycle through `objects` objects per side (round % objects) has each of them called once first
  // (as rounds 0…objects-1), so no timed round pays an object's first wake (construct, migrations);
  // any other case gets one call as round -1.
  const warmRounds = c.objects ? Array.from({ length: c.objects }, (_, i) => i) : [-1];
  for (const w of warmRounds) {
    await c.subject(base, w);
    await c.baseline(base, w);
  }
  const ratios = [];
  const subj = [];
  const basl = [];
  const subjCpu = [];
  const baslCpu = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first so drift on a shared machine hits both equally.
    let s;
    let b;
    if (r % 2 === 0) {
      s = await timed(() => c.subject(base, r), subjCpu);
      b = await timed(() => c.baseline(base, r), baslCpu);
    } else {
      b = await timed(() => c.baseline(base, r), baslCpu);
      s = await timed(() => c.subject(base, r), subjCpu);
    }
    subj.push(s);
    basl.push(b);
    ratios.push(s / b);
  }
  const med = median(ratios);
  // Fastest framework round ÷ fastest baseline round: each side with the machine's noise least in the way.
  const best = Math.min(...subj) / Math.min(...basl);
  const frameworkMs = median(subj);
  // `ops`: operations per subject call, for a rate; `seed`: the product documents' figure
  // ({ figure, top?, unit }); with `top` (a rate), the goal is at least twice that top.
  const rate = c.ops ? (c.ops / frameworkMs) * 1000 : null;
  const seedGoal = c.seed?.top ? 2 * c.seed.top : null;
  const result = {
    scenario: c.name,
    file: c.file,
    rounds,
    ratio: { median: med, min: Math.min(...ratios), max: Math.max(...ratios), bestOverBest: best },
    frameworkMs,
    baselineMs: median(basl),
    ops: c.ops ?? null,
    frameworkPerSecond: rate,
    baselinePerSecond: c.ops ? (c.ops / median(basl)) * 1000 : null,
    goal: c.goal ?? null,
    met: c.goal ? med <= c.goal : null,
    // CPU ms of the workerd processes per round (bench/cpu.mjs): the ratio per round, its median.
    // A case with a side outside workerd (the node:sqlite floor) says `cpu: false`.
    cpu:
      c.cpu !== false && subjCpu.length === rounds && baslCpu.length === rounds
        ? cpuFigures(subjCpu, baslCpu)
        : null,
    seed: c.seed ?? null,
    seedGoalPerSecond: seedGoal,
    seedMet: seedGoal ? rate >= seedGoal : null,
    // A case's extra figures may reuse the rounds' times (ms per round, each side) instead of more calls.
    extra: c.extra ? await c.extra(base, { subject: subj, baseline: basl }) : null,
  };
  // The case's wall time (setup, warm-up, rounds, extra figures), to see where a run's time goes.
  result.seconds = Number(((performance.now() - caseStarted) / 1000).toFixed(1));
  results.push(result);
  console.log(
    `- ${c.name}: ratio median ${fmt(med)} (${fmt(result.ratio.min)}–${fmt(result.ratio.max)})${result.cpu ? `, CPU ratio median ${fmt(result.cpu.ratio.median)} (${fmt(result.cpu.ratio.min)}–${fmt(result.cpu.ratio.max)})` : ""}, ${rounds} rounds, ${result.seconds} s`,
  );
}

// The issue's headline scenarios first (a run cut short on a loaded machine keeps those), then the rest.
const ORDER = [
  "inventory",
  "raw-sqlite",
  "checkout",
  "tenant",
  "query-path",
  "analytics",
  "telemetry",
  "document",
];
const rank = (f) => (ORDER.includes(f.slice(0, -4)) ? ORDER.indexOf(f.slice(0, -4)) : ORDER.length);
const files = readdirSync(join(root, "bench/cases"))
  .filter((f) => f.endsWith(".mjs"))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const cases = [];
for (const f of files)
  for (const c of (await import(pathToFileURL(join(root, "bench/cases", f)))).default)
    cases.push({ ...c, file: f.slice(0, -".mjs".length) });
// The filter names a case file (`npm run bench rpc` runs bench/cases/rpc.mjs) or part of a case's name.
const selected = cases.filter((c) => c.file === filter || c.name.includes(filter));
if (selected.length === 0) {
  console.error(`no bench case matches "${filter}" (case files: ${files.join(", ")})`);
  process.exit(1);
}

console.log(
  `DoSQL Actors bench: wrangler dev on 127.0.0.1, X_LOCAL_OBSERVABILITY=false, ${ROUNDS} rounds per case, ${new Date().toISOString()}`,
);
console.log(
  "ratio = framework time ÷ hand-written baseline time in the same round (lower is better); best÷best = fastest framework round ÷ fastest baseline round\n",
);
const started = Date.now();
// A quick or filtered run writes next to the full run's files (which BENCHMARKS.md quotes), not over them.
const out =
  QUICK || filter
    ? { json: "bench/results.quick.json", svg: "bench/ratios.quick.svg" }
    : { json: "bench/results.json", svg: "bench/ratios.svg" };
const machineNow = () => ({
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
  node: process.version,
});
const loadAtStart = machineNow().loadAverage;
/** results.json as it stands: written after every case too, so a run cut short keeps what it measured. */
const save = (sizes, complete) => {
  const written = {
    date: new Date(started).toISOString(),
    complete,
    seconds: Math.round((Date.now() - started) / 1000),
    quick: QUICK,
    rounds: ROUNDS,
    // The issue's run-time limits are for the default rounds: a run with BENCH_ROUNDS is not judged.
    roundsFromEnv: process.env.BENCH_ROUNDS !== undefined,
    filter,
    server: "wrangler dev on 127.0.0.1, X_LOCAL_OBSERVABILITY=false",
    machine: { ...machineNow(), loadAverageAtStart: loadAtStart },
    results,
    sizes,
  };
  writeFileSync(join(root, out.json), `${JSON.stringify(written, null, 2)}\n`);
  return written;
};
let failed = 0;
const { base, stop, cpu } = await startWorker();
readCpu = cpu;
try {
  for (const c of selected) {
    try {
      await runCase(base, c);
    } catch (err) {
      // One broken case is reported and the rest still run (the run exits 1 at the end).
      failed++;
      results.push({ scenario: c.name, file: c.file, error: String(err?.stack ?? err) });
      console.log(`- ${c.name}: FAILED ${err}`);
    }
    save([], false);
  }
} finally {
  stop();
}
// Bundle sizes (scripts/size.mjs: wrangler deploy --dry-run --minify) in the same table, full runs only.
const sizes = !filter && !QUICK ? measure() : [];
const written = save(sizes, true);
const machine = written.machine;
console.log(
  `\nload average at the start ${loadAtStart.join(", ")}, at the end ${machine.loadAverage.join(", ")} (${machine.cpus} CPUs, ${machine.cpu}); ${written.seconds} s\n`,
);
console.log(table(results, sizes, written).join("\n"));
console.log(`\n${out.json}: ${results.length} scenarios, ${sizes.length} bundle sizes`);
writeFileSync(
  join(root, out.svg),
  plot(
    results,
    `DoSQL Actors bench, ${written.date}${QUICK ? " (--quick)" : ""}, ${ROUNDS} rounds, load average ${loadAtStart.join(" ")} at the start, ${machine.loadAverage.join(" ")} at the end (${machine.cpus} CPUs)`,
  ),
);
console.log(`${out.svg}: the framework ÷ baseline ratio per scenario`);
if (failed) {
  console.error(`${failed} case(s) failed`);
  process.exitCode = 1;
}
