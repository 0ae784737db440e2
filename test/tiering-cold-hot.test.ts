import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TieredActor } from "./fixtures/tiered";
import { freshTiered, leftovers } from "./tiering-helpers";

/**
 * Cold = hot, as a property: random tables whose columns mix types (untyped, BLOB, TEXT COLLATE
 * NOCASE/RTRIM, REAL, INTEGER, NUMERIC; NULLs, blobs, integral REALs, numeric-looking text), random
 * queries (every comparison in WHERE, literals and parameters, GROUP BY, ORDER BY, LIMIT, a JOIN
 * with a hot table), run on the hot table, then on its archive in R2; the answers must be equal
 * value for value, with `typeof` of every value compared too (JS cannot tell 1.0 from 1).
 */

type Cell = null | { int: number } | { real: number } | { text: string } | { blob: number[] };

const POOL: Cell[] = [
  null,
  { int: -2 },
  { int: 0 },
  { int: 1 },
  { int: 3 },
  { int: 10 },
  { real: -0.5 },
  { real: 1 },
  { real: 2.5 },
  { real: 3 },
  { text: "abc" },
  { text: "ABC" },
  { text: "Abc" },
  { text: "b" },
  { text: "B" },
  { text: "" },
  { text: "a " },
  { text: "a" },
  { text: "5" },
  { text: "10" },
  { text: "3.0" },
  { blob: [0] },
  { blob: [0xff, 1] },
  { blob: [0x61, 0x62, 0x63] },
];
const TYPES = [
  "",
  "",
  "BLOB",
  "TEXT",
  "TEXT COLLATE NOCASE",
  "VARCHAR(20) COLLATE NOCASE",
  "TEXT COLLATE RTRIM",
  "INTEGER",
  "REAL",
  "NUMERIC",
  "BOOLEAN",
];
const OPS = ["=", "==", "!=", "<>", "<", "<=", ">", ">="];

/** mulberry32: a small seeded generator, so a failure names a reproducible seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}

/** A cell as JSON text for `json_each` (blobs as `{"x": hex}`, decoded on insert). */
function cellJson(c: Cell): string {
  if (c === null) return "null";
  if ("int" in c) return String(c.int);
  if ("real" in c) return Number.isInteger(c.real) ? `${c.real}.0` : String(c.real);
  if ("text" in c) return JSON.stringify(c.text);
  return JSON.stringify({ x: c.blob.map((b) => b.toString(16).padStart(2, "0")).join("") });
}

/** A cell as a SQL literal. */
function literal(c: Cell): string {
  if (c === null) return "NULL";
  if ("int" in c) return String(c.int);
  if ("real" in c) return Number.isInteger(c.real) ? `${c.real}.0` : String(c.real);
  if ("text" in c) return `'${c.text.replaceAll("'", "''")}'`;
  return `x'${c.blob.map((b) => b.toString(16).padStart(2, "0")).join("")}'`;
}

/** A cell as a bound parameter (JS numbers bind as REAL, which compares like the integer). */
function param(c: Exclude<Cell, null>): unknown {
  if ("int" in c) return c.int;
  if ("real" in c) return c.real;
  if ("text" in c) return c.text;
  return new Uint8Array(c.blob).buffer;
}

interface Table {
  name: string;
  columns: { name: string; type: string }[];
  rows: Cell[][];
  join: { name: string; type: string; rows: Cell[] };
}

function randomTable(r: ReturnType<typeof rng>, n: number): Table {
  const columns = Array.from({ length: 3 + r.int(3) }, (_, i) => ({ name: `c${i}`, type: r.pick(TYPES) }));
  // Each column draws from a few values of the pool, so comparisons and groups often hit.
  const domains = columns.map(() => Array.from({ length: 4 + r.int(5) }, () => r.pick(POOL)));
  const rows = Array.from({ length: 40 + r.int(40) }, () => domains.map((d) => r.pick(d)));
  const joinDomain = r.pick(domains);
  return {
    name: `p${n}`,
    columns,
    rows,
    join: { name: `h${n}`, type: r.pick(TYPES), rows: Array.from({ length: 6 }, () => r.pick(joinDomain)) },
  };
}

interface Query {
  sql: string;
  params: unknown[];
}

/** `SRC` stands for the source: the hot table's name or the archive's `'r2://…'` reference. */
function randomQuery(r: ReturnType<typeof rng>, t: Table, cutoffTs: number): Query {
  const col = () => r.pick(t.columns).name;
  const value = () => r.pick(POOL.filter((c) => c !== null)) as Exclude<Cell, null>;
  const params: unknown[] = [];
  const operand = () => {
    const v = value();
    if (r.next() < 0.4) {
      params.push(param(v));
      return "?";
    }
    return literal(v);
  };
  const condition = (): string => {
    const c = col();
    switch (r.int(8)) {
      case 0:
        return `${operand()} ${r.pick(OPS)} ${c}`;
      case 1:
        return `${c} BETWEEN ${operand()} AND ${operand()}`;
      case 2:
        return `${c} IS ${r.next() < 0.5 ? "NULL" : "NOT NULL"}`;
      case 3:
        return `${c} IN (${operand()}, ${operand()})`;
      case 4:
        return `${c} = ${operand()} AND ts >= ${operand()}`;
      default:
        return `${c} ${r.pick(OPS)} ${operand()}`;
    }
  };
  const where = () => {
    const parts = [condition()];
    if (r.next() < 0.3) parts.push(condition());
    if (r.next() < 0.3) parts.push(`ts < ${cutoffTs}`);
    return parts.join(r.next() < 0.8 ? " AND " : " OR ");
  };
  const c = col();
  switch (r.int(6)) {
    case 0:
      return {
        sql: `SELECT id, ${c}, typeof(${c}) AS ty FROM SRC WHERE ${where()} ORDER BY id`,
        params,
      };
    case 1:
      return {
        sql: `SELECT ${c} AS g, typeof(${c}) AS ty, count(*) AS n FROM SRC ${r.next() < 0.5 ? `WHERE ${where()} ` : ""}GROUP BY ${c} ORDER BY ${c}, n`,
        params,
      };
    case 2: {
      const limit = 1 + r.int(12);
      return {
        sql: `SELECT id, ${c}, typeof(${c}) AS ty FROM SRC ORDER BY ${c} ${r.next() < 0.5 ? "DESC" : "ASC"}, id LIMIT ${limit} OFFSET ${r.int(10)}`,
        params,
      };
    }
    case 3:
      return {
        sql: `SELECT s.id, h.label, typeof(h.k) AS hk, typeof(s.${c}) AS sk FROM SRC s JOIN ${t.join.name} h ON ${r.next() < 0.5 ? `h.k = s.${c}` : `s.${c} = h.k`} ORDER BY s.id, h.label`,
        params,
      };
    case 4:
      return {
        sql: `SELECT count(*) AS n, count(DISTINCT ${c}) AS d, min(${c}) AS lo, max(${c}) AS hi, typeof(min(${c})) AS tlo, typeof(max(${c})) AS thi, total(${c}) AS tot FROM SRC WHERE ${where()}`,
        params,
      };
    default:
      return {
        sql: `SELECT DISTINCT ${c}, typeof(${c}) AS ty FROM SRC ORDER BY ${c} LIMIT ${3 + r.int(10)}`,
        params,
      };
  }
}

/** Blobs as hex, so results compare exactly with toEqual. */
function normalize(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v instanceof ArrayBuffer
          ? `x'${[...new Uint8Array(v)].map((b) => b.toString(16).padStart(2, "0")).join("")}'`
          : v,
      ]),
    ),
  );
}

const T0 = Date.UTC(2026, 0, 1);

async function checkTable(actor: TieredActor, actorName: string, t: Table, queries: Query[]) {
  const cols = t.columns.map((c) => `${c.name} ${c.type}`).join(", ");
  actor.run(`CREATE TABLE ${t.name} (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ${cols})`);
  actor.run(`CREATE TABLE ${t.join.name} (k ${t.join.type}, label TEXT)`);
  const cell = (i: number) =>
    `CASE json_type(value, '$[${i}]') WHEN 'object' THEN unhex(value->>'$[${i}].x') ELSE value->>${i} END`;
  const rowsJson = `[${t.rows.map((row, i) => `[${i + 1},${T0 + i * 1000},${row.map(cellJson).join(",")}]`).join(",")}]`;
  actor.run(
    `INSERT INTO ${t.name} (id, ts, ${t.columns.map((c) => c.name).join(", ")}) SELECT ${[0, 1, ...t.columns.map((_, i) => i + 2)].map(cell).join(", ")} FROM json_each(?)`,
    [rowsJson],
  );
  const joinJson = `[${t.join.rows.map((c, i) => `[${cellJson(c)},"l${i}"]`).join(",")}]`;
  actor.run(`INSERT INTO ${t.join.name} (k, label) SELECT ${cell(0)}, value->>1 FROM json_each(?)`, [
    joinJson,
  ]);

  const hot = queries.map((q) => normalize(actor.query(q.sql.replaceAll("SRC", t.name), q.params)));
  const result = await actor.tiering.archive({
    table: t.name,
    timeColumn: "ts",
    olderThan: T0 + 10 * 86_400_000,
    partition: "month",
  });
  expect(result.rows).toBe(t.rows.length);
  expect(actor.query(`SELECT count(*) AS n FROM ${t.name}`)[0].n).toBe(0);
  const ref = `'r2://ARCHIVE/archive/${actorName}/${t.name}/*.parquet'`;
  const mismatches: { sql: string; params: unknown[]; hot: unknown; cold: unknown }[] = [];
  for (const [i, q] of queries.entries()) {
    const cold = normalize(await actor.tiering.query(q.sql.replaceAll("SRC", ref), q.params));
    if (JSON.stringify(cold) !== JSON.stringify(hot[i]))
      mismatches.push({ sql: q.sql, params: q.params, hot: hot[i], cold });
  }
  return mismatches;
}

describe("cold = hot, as a property", () => {
  for (const seed of [11, 1911, 20261201, 7]) {
    it(`random tables and queries give the same answers hot and cold (seed ${seed})`, async () => {
      const r = rng(seed);
      const { name, stub } = freshTiered(`prop-${seed}`, { chunkRows: 30, rowGroupRows: 6 });
      for (let n = 0; n < 3; n++) {
        const table = randomTable(r, n);
        const queries = Array.from({ length: 40 }, () => randomQuery(r, table, T0 + 30_000));
        const mismatches = await runInDurableObject(stub, (actor) => checkTable(actor, name, table, queries));
        expect(
          mismatches.slice(0, 3),
          `seed ${seed}, table ${JSON.stringify(table.columns)}, join ${table.join.type}`,
        ).toEqual([]);
      }
      expect(await leftovers(stub)).toEqual([]);
    });
  }
});
