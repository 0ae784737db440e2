// `npm run size`: builds each Worker below with `wrangler deploy --dry-run --minify` (the project's
// own settings: compatibility date and flags, `keep_names: false`, .sql as text) and prints wrangler's own
// "Total Upload … / gzip …" figures, beside an empty partyserver Server and an empty Agents SDK
// Agent built the same way. Exits 1 when a goal is missed. `build()` is also used by
// test/node/bundle.test.ts, which reads the bundle's module list.
// `npm run size -- --breakdown coordinator` also prints what one Worker carries, by package and by
// our own folders (minified bytes in the output, from esbuild's metafile).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

/** Every Worker measured. `classes`: the Durable Object classes the fixture exports. */
export const TARGETS = [
  {
    name: "minimal",
    label: "one SqlActor, no history, no tiering (bench/size/minimal.ts)",
    main: "bench/size/minimal.ts",
    classes: ["Counter"],
    goal: 50,
  },
  {
    name: "inventory-only",
    label: "re-exporting InventorySKU alone (bench/size/inventory-only.ts)",
    main: "bench/size/inventory-only.ts",
    classes: ["InventorySKU"],
    goalOver: { target: "minimal", kib: 60 },
  },
  {
    name: "all-parts",
    label: "one SqlActor with history and tiering (bench/size/all-parts.ts)",
    main: "bench/size/all-parts.ts",
    classes: ["Archived"],
  },
  {
    name: "sources",
    label: "one SqlActor with sources (bench/size/sources.ts)",
    main: "bench/size/sources.ts",
    classes: ["Sourced"],
  },
  {
    name: "coordinator",
    label: "the coordinator, every prebuilt actor (wrangler.jsonc)",
    config: "wrangler.jsonc",
    goal: 180,
  },
  {
    name: "partyserver",
    label: "empty partyserver Server (bench/size/partyserver-empty.ts)",
    main: "bench/size/partyserver-empty.ts",
    classes: ["Empty"],
  },
  {
    name: "agents",
    label: "empty agents Agent (bench/size/agents-empty.ts)",
    main: "bench/size/agents-empty.ts",
    classes: ["EmptyAgent"],
  },
];

const UPLOAD = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/;

/**
 * Build one target. Returns wrangler's figures (KiB), the bundle's module list (paths relative
 * to the repository, as esbuild's metafile names them) and the Worker's minified code.
 */
export function build(target) {
  const dir = mkdtempSync(join(tmpdir(), `dosql-size-${target.name}-`));
  try {
    let config = target.config ? join(root, target.config) : join(dir, "wrangler.json");
    if (!target.config)
      writeFileSync(
        config,
        JSON.stringify({
          name: `dosql-size-${target.name}`,
          main: join(root, target.main),
          compatibility_date: "2026-08-22",
          compatibility_flags: ["nodejs_compat"],
          // As wrangler.jsonc: classes may be renamed, actors are found by `static exportName`.
          keep_names: false,
          rules: [{ type: "Text", globs: ["**/*.sql"], fallthrough: true }],
          durable_objects: {
            bindings: target.classes.map((c) => ({ name: c.toUpperCase(), class_name: c })),
          },
          migrations: [{ tag: "v1", new_sqlite_classes: target.classes }],
        }),
      );
    config = config.replaceAll("\\", "/");
    const meta = join(dir, "meta.json");
    const res = spawnSync(
      "npx",
      [
        "wrangler",
        "deploy",
        "--dry-run",
        "--minify",
        "-c",
        config,
        "--outdir",
        join(dir, "out"),
        "--metafile",
        meta,
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    );
    const output = `${res.stdout}\n${res.stderr}`;
    const match = UPLOAD.exec(output);
    if (res.status !== 0 || !match) throw new Error(`wrangler could not build ${target.name}:\n${output}`);
    const metafile = JSON.parse(readFileSync(meta, "utf8"));
    // The Worker's own output file, in --outdir.
    const entry = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint);
    const code = readFileSync(join(dir, "out", basename(entry[0])), "utf8");
    const modules = Object.keys(metafile.inputs).map((p) => p.replaceAll("\\", "/"));
    /** Minified bytes each input contributes to the output (0: parsed, then shaken out). */
    const bytes = new Map();
    for (const out of Object.values(metafile.outputs))
      for (const [p, i] of Object.entries(out.inputs ?? {}))
        bytes.set(p.replaceAll("\\", "/"), (bytes.get(p.replaceAll("\\", "/")) ?? 0) + i.bytesInOutput);
    return { raw: Number(match[1]), gzip: Number(match[2]), line: match[0], modules, bytes, code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Build every target; answers one row each: label, raw and gzip KiB, the goal as text (or null)
 * and whether it is met (null without a goal).
 */
export function measure() {
  const built = new Map();
  for (const t of TARGETS) built.set(t.name, build(t));
  return TARGETS.map((t) => {
    const b = built.get(t.name);
    if (t.goal !== undefined)
      return {
        name: t.name,
        label: t.label,
        raw: b.raw,
        gzip: b.gzip,
        goal: `≤ ${t.goal} KiB gzip`,
        met: b.gzip <= t.goal,
      };
    if (t.goalOver) {
      const over = b.gzip - built.get(t.goalOver.target).gzip;
      return {
        name: t.name,
        label: t.label,
        raw: b.raw,
        gzip: b.gzip,
        goal: `+${over.toFixed(2)} over ${t.goalOver.target}, ≤ +${t.goalOver.kib} KiB gzip`,
        met: over <= t.goalOver.kib,
      };
    }
    return { name: t.name, label: t.label, raw: b.raw, gzip: b.gzip, goal: null, met: null };
  });
}

/** Build every target and print one table; returns false when a goal is missed. */
export function report(print = console.log) {
  const rows = measure();
  print("| Worker | raw KiB | gzip KiB | goal |");
  print("| --- | --- | --- | --- |");
  for (const r of rows)
    print(
      `| ${r.label} | ${r.raw.toFixed(2)} | ${r.gzip.toFixed(2)} | ${r.goal ? `${r.goal} ${r.met ? "ok" : "OVER"}` : "-"} |`,
    );
  return rows.every((r) => r.met !== false);
}

/** A module's group: its package under node_modules, else its first two folders (src/history, actors/order). */
export function groupOf(path) {
  const at = path.lastIndexOf("node_modules/");
  if (at >= 0) {
    const parts = path.slice(at + "node_modules/".length).split("/");
    return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const parts = path.replace(/^(\.\.\/)+/, "").split("/");
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.length === 2 ? `${parts[0]}/*` : parts[0];
}

/** Print one target's bytes by group, largest first. */
export function breakdown(name, print = console.log) {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no target ${name}: ${TARGETS.map((t) => t.name).join(", ")}`);
  const b = build(target);
  const groups = new Map();
  for (const [p, n] of b.bytes) groups.set(groupOf(p), (groups.get(groupOf(p)) ?? 0) + n);
  const total = [...groups.values()].reduce((a, n) => a + n, 0);
  print(`\n${target.label}: ${b.line}\n`);
  print("| group | minified KiB | share |");
  print("| --- | --- | --- |");
  for (const [g, n] of [...groups].sort((x, y) => y[1] - x[1]))
    print(`| ${g} | ${(n / 1024).toFixed(1)} | ${((100 * n) / total).toFixed(1)}% |`);
  print(`| total (inputs) | ${(total / 1024).toFixed(1)} | |`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--breakdown");
  if (at >= 0) {
    breakdown(process.argv[at + 1] ?? "coordinator");
    process.exit(0);
  }
  console.log(
    "Bundle sizes: wrangler deploy --dry-run --minify, as wrangler prints them (Total Upload / gzip)\n",
  );
  if (!report()) process.exitCode = 1;
}
