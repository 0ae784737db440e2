// Tiering bench: archive throughput against a hand-written archiver DO, and a cold GROUP BY over
// 1,000,000 archived rows against the same GROUP BY on hot rows (time and peak memory).

import { readdirSync, readFileSync } from "node:fs";
import { postJson } from "../http.mjs";
import { QUICK } from "../quick.mjs";

const ARCHIVE_ROWS = QUICK ? 5_000 : 100_000;
const COLD_ROWS = QUICK ? 20_000 : 1_000_000;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : Number.NaN;
};

/** workerd processes started by this bench run (descendants of this Node process). */
function workerdPids() {
  const parent = new Map();
  const name = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^\d+ \((.*)\) \S (\d+)/.exec(readFileSync(`/proc/${d}/stat`, "utf8"));
      parent.set(Number(d), Number(m[2]));
      name.set(Number(d), m[1]);
    } catch {}
  }
  const ours = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = parent.get(p) ?? 0, hops++)
      if (p === process.pid) return true;
    return false;
  };
  return [...name].filter(([pid, n]) => n.startsWith("workerd") && ours(pid)).map(([pid]) => pid);
}

const rssMb = (pids) =>
  pids.reduce((mb, pid) => {
    try {
      return mb + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
    } catch {
      return mb;
    }
  }, 0);

/** Run `fn` while sampling workerd's resident memory every 5 ms. */
export async function withMemory(fn) {
  const pids = workerdPids();
  const before = rssMb(pids);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pids))), 5);
  try {
    return { result: await fn(), before, peak };
  } finally {
    clearInterval(timer);
  }
}

const archive = { framework: [], plain: [] };
async function timedArchive(base, side, round) {
  const t0 = performance.now();
  const { rows } = await postJson(base, `/bench/tiering/archive/${side}/arch-${round + 1}`);
  if (rows !== ARCHIVE_ROWS) throw new Error(`${side} archived ${rows} rows, not ${ARCHIVE_ROWS}`);
  if (round >= 0) archive[side].push(performance.now() - t0);
}

const cold = { ms: [], first: undefined, peakMb: 0, same: undefined, hot: undefined, files: 0 };
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/**
 * Write the 1,000,000 rows as Parquet here in Node (the same rows and row groups the archive
 * writes: 20,000 rows a file, 5,000 a group) and upload them through the bench Worker. Nothing in
 * workerd has touched these rows before the first cold query, so its memory figure is its own.
 */
async function uploadColdArchive(base) {
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const days = 30;
  for (let at = 0; at < COLD_ROWS; at += 20_000) {
    const ids = [];
    for (let i = at; i < at + 20_000; i++) ids.push(i);
    const ts = ids.map((i) => T0 + Math.floor((i * days * DAY) / COLD_ROWS));
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", type: "INT64", data: ids.map((i) => BigInt(i + 1)) },
        { name: "sensor", type: "STRING", data: ids.map((i) => `sensor-${i % 50}`) },
        { name: "ts", type: "INT64", data: ts.map(BigInt) },
        { name: "value", type: "DOUBLE", data: ids.map((i) => (i % 1000) * 0.25) },
        { name: "note", type: "STRING", data: ids.map((i) => (i % 10 ? `n${i % 13}` : null)) },
      ],
      rowGroupSize: 5_000,
    });
    const day = new Date(ts[0] - (ts[0] % DAY)).toISOString().slice(0, 10);
    const key = `bench-cold/cold-1m/${day}/${String(at + 1).padStart(8, "0")}.parquet`;
    const res = await fetch(`${base}/bench/tiering/upload?key=${encodeURIComponent(key)}`, {
      method: "PUT",
      body: buffer,
    });
    if (!res.ok) throw new Error(`upload ${key}: ${res.status}`);
    cold.files++;
  }
}

export default [
  {
    name: `cold GROUP BY over ${COLD_ROWS.toLocaleString("en")} archived rows (r2://) vs same SQL on hot rows`,
    seed: { figure: "R2 read (cold tier) 20–50 ms (USE_CASES 1)" },
    rounds: 3,
    setup: uploadColdArchive,
    async subject(base, round) {
      const t0 = performance.now();
      const { result, before, peak } = await withMemory(() =>
        postJson(base, "/bench/tiering/group-by/framework/cold-1m"),
      );
      if (round < 0) cold.first = { ms: performance.now() - t0, before, peak };
      else cold.ms.push(performance.now() - t0);
      cold.peakMb = Math.max(cold.peakMb, peak);
      if (cold.hot) cold.same = JSON.stringify(result.rows) === JSON.stringify(cold.hot);
    },
    async baseline(base, round) {
      // The hot copy is seeded during the warm-up (untimed), after the first cold query.
      if (round < 0) await postJson(base, `/bench/tiering/seed/hot/hot-1m?n=${COLD_ROWS}&days=30`);
      cold.hot = (await postJson(base, "/bench/tiering/group-by/hot/hot-1m")).rows;
    },
    extra: () => ({
      "cold GROUP BY ms (median of timed rounds)": median(cold.ms).toFixed(0),
      "first cold query (fresh isolate heap; includes loading hyparquet)": `${cold.first.ms.toFixed(0)} ms, workerd RSS ${cold.first.before.toFixed(0)} → peak ${cold.first.peak.toFixed(0)} MB (+${(cold.first.peak - cold.first.before).toFixed(0)} MB)`,
      "workerd peak RSS over all cold rounds (MB)": cold.peakMb.toFixed(0),
      "files / cold result equals hot result": `${cold.files} / ${cold.same}`,
    }),
  },
  {
    name: `tiering.archive of ${ARCHIVE_ROWS.toLocaleString("en")} rows to R2 vs hand-written archiver DO`,
    // The goal: framework ≥ 0.95× hand on every scenario.
    goal: 1 / 0.95,
    seed: { figure: "R2 write (archive) 50–100 ms (USE_CASES 1)" },
    rounds: 5,
    async setup(base) {
      // One pre-seeded actor per round (and the warm-up) on each side: only the archive is timed.
      for (let i = 0; i <= 5; i++)
        for (const side of ["framework", "plain"])
          await postJson(base, `/bench/tiering/seed/${side}/arch-${i}?n=${ARCHIVE_ROWS}&days=5`);
    },
    subject: (base, round) => timedArchive(base, "framework", round),
    baseline: (base, round) => timedArchive(base, "plain", round),
    extra: () => ({
      "framework rows/s (median)": Math.round(
        ARCHIVE_ROWS / (median(archive.framework) / 1000),
      ).toLocaleString("en"),
      "hand-written rows/s (median)": Math.round(
        ARCHIVE_ROWS / (median(archive.plain) / 1000),
      ).toLocaleString("en"),
    }),
  },
];
