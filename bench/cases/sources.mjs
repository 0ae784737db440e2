// Sources (issue 20): rows/s scanned per format from R2 (`FROM 'r2://ARCHIVE/…'`: JSON, NDJSON, CSV,
// Parquet) against the same GROUP BY over the same rows in a hand-written Durable Object's table,
// and workerd's peak RSS for a large CSV scan with a selective filter.
// BENCH_SOURCES_ROWS (default 200,000; --quick 20,000) rows per format file; BENCH_SOURCES_CSV_MB
// (default 100; --quick 10).

import { postJson } from "../http.mjs";
import { QUICK } from "../quick.mjs";
import { median, withMemory } from "./tiering.mjs";

const N = Number(process.env.BENCH_SOURCES_ROWS ?? (QUICK ? 20_000 : 200_000));
const BIG_MB = Number(process.env.BENCH_SOURCES_CSV_MB ?? (QUICK ? 10 : 100));
const CATEGORIES = ["tools", "toys", "food", "books"];
const COLUMNS = ["id", "name", "category", "price", "qty", "day"];

/** Row `id`: the formula of bench/actors/sources.ts `item`. */
const item = (id) => ({
  id,
  name: `item-${id}`,
  category: CATEGORIES[id % 4],
  price: (id % 40) * 0.25 + 0.5,
  qty: id % 7,
  day: `2026-11-${String((id % 28) + 1).padStart(2, "0")}`,
});

async function upload(base, name, body) {
  const res = await fetch(`${base}/bench/sources/upload?key=bench-sources/${name}`, { method: "PUT", body });
  if (!res.ok) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()).size;
}

function rowsOf(n, first = 1) {
  const rows = [];
  for (let id = first; id < first + n; id++) rows.push(item(id));
  return rows;
}

const csvOf = (rows) =>
  `${COLUMNS.join(",")}\n${rows.map((r) => COLUMNS.map((c) => r[c]).join(",")).join("\n")}\n`;

const sizes = {};
async function setup(base) {
  const rows = rowsOf(N);
  sizes.json = await upload(base, "items.json", JSON.stringify(rows));
  sizes.ndjson = await upload(base, "items.ndjson", `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  sizes.csv = await upload(base, "items.csv", csvOf(rows));
  const { parquetWriteBuffer } = await import("hyparquet-writer");
  const col = (c) => rows.map((r) => r[c]);
  sizes.parquet = await upload(
    base,
    "items.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "id", type: "INT32", data: col("id") },
          { name: "name", type: "STRING", data: col("name") },
          { name: "category", type: "STRING", data: col("category") },
          { name: "price", type: "DOUBLE", data: col("price") },
          { name: "qty", type: "INT32", data: col("qty") },
          { name: "day", type: "STRING", data: col("day") },
        ],
        rowGroupSize: 20_000,
      }),
    ),
  );
  for (const f of ["items.json", "items.ndjson", "items.csv", "items.parquet"])
    await postJson(base, `/bench/sources/seed/${f}?n=${N}`);
}

const results = {};
function formatCase(format) {
  const file = `items.${format}`;
  const r = { ms: [], same: undefined, hot: undefined };
  results[format] = r;
  return {
    name: `${format} from R2: GROUP BY over ${N.toLocaleString("en")} rows (${format === "json" ? "parsed whole" : "streamed"}) vs same SQL on hot rows`,
    rounds: 3,
    setup: format === "json" ? setup : undefined,
    async subject(base, round) {
      const t0 = performance.now();
      const { rows } = await postJson(base, `/bench/sources/scan/r2/${file}`);
      if (round >= 0) r.ms.push(performance.now() - t0);
      if (r.hot) r.same = JSON.stringify(rows) === JSON.stringify(r.hot);
    },
    async baseline(base) {
      r.hot = (await postJson(base, `/bench/sources/scan/hot/${file}`)).rows;
    },
    extra: () => ({
      [`${format}: rows/s scanned from R2 (median)`]: Math.round(N / (median(r.ms) / 1000)).toLocaleString(
        "en",
      ),
      [`${format}: file bytes / result equals hot result`]: `${sizes[format]?.toLocaleString("en")} / ${r.same}`,
    }),
  };
}

/** About BIG_MB of CSV, uploaded once (streamed to R2). */
async function uploadBig(base) {
  const perRow = csvOf([item(1_000_000)]).length - COLUMNS.join(",").length - 1;
  const total = Math.floor((BIG_MB * 1024 * 1024) / perRow);
  const parts = [Buffer.from(`${COLUMNS.join(",")}\n`)];
  for (let at = 1; at <= total; at += 100_000) {
    const rows = rowsOf(Math.min(100_000, total - at + 1), at);
    parts.push(Buffer.from(`${rows.map((r) => COLUMNS.map((c) => r[c]).join(",")).join("\n")}\n`));
  }
  big.rows = total;
  big.bytes = await upload(base, "big.csv", Buffer.concat(parts));
}
const big = { rows: 0, bytes: 0, ms: [], first: undefined, peak: 0 };

export default [
  ...["json", "ndjson", "csv", "parquet"].map(formatCase),
  {
    name: `${BIG_MB} MB CSV from R2 with a selective filter (id <= 1000): time and workerd peak RSS, vs same SQL on 1,000 hot rows`,
    rounds: 2,
    setup: async (base) => {
      await uploadBig(base);
      await postJson(base, `/bench/sources/seed/big.csv?n=1000`);
    },
    async subject(base, round) {
      const t0 = performance.now();
      const { result, before, peak } = await withMemory(() =>
        postJson(base, "/bench/sources/scan/r2/big.csv?where=selective"),
      );
      const ms = performance.now() - t0;
      if (round < 0) big.first = { ms, before, peak, rows: result.rows };
      else big.ms.push(ms);
      big.peak = Math.max(big.peak, peak);
    },
    baseline: (base) => postJson(base, "/bench/sources/scan/hot/big.csv?where=selective"),
    extra: () => ({
      "big CSV: rows / bytes": `${big.rows.toLocaleString("en")} / ${big.bytes.toLocaleString("en")}`,
      "big CSV: first scan (fresh)": `${big.first.ms.toFixed(0)} ms, workerd RSS ${big.first.before.toFixed(0)} → peak ${big.first.peak.toFixed(0)} MB (+${(big.first.peak - big.first.before).toFixed(0)} MB)`,
      "big CSV: rows/s scanned (median)": Math.round(big.rows / (median(big.ms) / 1000)).toLocaleString("en"),
      "big CSV: workerd peak RSS over all rounds (MB)": big.peak.toFixed(0),
    }),
  },
];
