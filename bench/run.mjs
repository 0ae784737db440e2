// `npm run bench [filter]` (a case file's name, or part of a case's name): starts the bench Worker under `wrangler dev` on loopback (local tracing
// off: X_LOCAL_OBSERVABILITY=false), runs every case in bench/cases/*.mjs, and prints ratios of the
// framework (subject) to a hand-written baseline measured in the same run, interleaved round by round.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { report } from "../scripts/size.mjs";
import { QUICK } from "./quick.mjs";

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
  return { base, stop };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function runCase(base, c) {
  await c.setup?.(base);
  // --quick caps every case's rounds (a case may ask for more in a full run).
  const rounds = QUICK ? Math.min(c.rounds ?? ROUNDS, ROUNDS) : (c.rounds ?? ROUNDS);
  // Warm both sides (isolate start, table creation, JIT) before measuring.
  await c.subject(base, -1);
  await c.baseline(base, -1);
  const ratios = [];
  const subj = [];
  const basl = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first so drift on a shared machine hits both equally.
    let s;
    let b;
    if (r % 2 === 0) {
      s = await timed(() => c.subject(base, r));
      b = await timed(() => c.baseline(base, r));
    } else {
      b = await timed(() => c.baseline(base, r));
      s = await timed(() => c.subject(base, r));
    }
    subj.push(s);
    basl.push(b);
    ratios.push(s / b);
  }
  const med = median(ratios);
  // Fastest framework round ÷ fastest baseline round: each side with the machine's noise least in the way.
  const best = Math.min(...subj) / Math.min(...basl);
  const verdict = c.goal ? (med <= c.goal ? "ok" : "OVER") : "";
  results.push({
    scenario: c.name,
    rounds,
    ratio: { median: med, min: Math.min(...ratios), max: Math.max(...ratios), bestOverBest: best },
    frameworkMs: median(subj),
    baselineMs: median(basl),
    goal: c.goal ?? null,
    met: c.goal ? med <= c.goal : null,
  });
  console.log(
    `| ${c.name} | ${fmt(Math.min(...ratios))} | ${fmt(med)} | ${fmt(Math.max(...ratios))} | ${fmt(best)} | ${fmt(median(subj), 1)} | ${fmt(median(basl), 1)} | ${c.goal ? `≤ ${c.goal} ${verdict}` : "-"} |`,
  );
  if (c.extra)
    for (const [label, value] of Object.entries(await c.extra(base)))
      console.log(`|   ${label} | ${value} | | | | | | |`);
}

const files = readdirSync(join(root, "bench/cases"))
  .filter((f) => f.endsWith(".mjs"))
  .sort();
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
const { base, stop } = await startWorker();
try {
  console.log(
    "| case | min | median | max | best÷best | framework ms (median) | baseline ms (median) | goal (median) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const c of selected) await runCase(base, c);
} finally {
  stop();
}
const written = {
  date: new Date().toISOString(),
  quick: QUICK,
  rounds: ROUNDS,
  filter,
  server: "wrangler dev on 127.0.0.1, X_LOCAL_OBSERVABILITY=false",
  results,
};
writeFileSync(join(root, "bench/results.json"), `${JSON.stringify(written, null, 2)}\n`);
console.log(`\nbench/results.json: ${results.length} scenarios`);
if (!filter && !QUICK) {
  console.log("\nBundle sizes (npm run size: wrangler deploy --dry-run --minify, Total Upload / gzip)\n");
  report();
}
