// `npm run size`: builds each Worker below with `wrangler deploy --dry-run --minify` (the project's
// own settings: compatibility date and flags, .sql as text) and prints wrangler's own
// "Total Upload … / gzip …" figures, beside an empty partyserver Server and an empty Agents SDK
// Agent built the same way. Exits 1 when a goal is missed. `build()` is also used by
// test/node/bundle.test.ts, which reads the bundle's module list.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
 * Build one target. Returns wrangler's figures (KiB) and the bundle's module list (paths relative
 * to the repository, as esbuild's metafile names them).
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
    const modules = Object.keys(metafile.inputs).map((p) => p.replaceAll("\\", "/"));
    return { raw: Number(match[1]), gzip: Number(match[2]), line: match[0], modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Build every target and print one table; returns false when a goal is missed. */
export function report(print = console.log) {
  const built = new Map();
  for (const t of TARGETS) built.set(t.name, build(t));
  let ok = true;
  print("| Worker | raw KiB | gzip KiB | goal |");
  print("| --- | --- | --- | --- |");
  for (const t of TARGETS) {
    const b = built.get(t.name);
    let goal = "-";
    if (t.goal !== undefined) {
      const met = b.gzip <= t.goal;
      ok &&= met;
      goal = `≤ ${t.goal} gzip ${met ? "ok" : "OVER"}`;
    } else if (t.goalOver) {
      const over = b.gzip - built.get(t.goalOver.target).gzip;
      const met = over <= t.goalOver.kib;
      ok &&= met;
      goal = `+${over.toFixed(2)} over ${t.goalOver.target}, ≤ +${t.goalOver.kib} ${met ? "ok" : "OVER"}`;
    }
    print(`| ${t.label} | ${b.raw.toFixed(2)} | ${b.gzip.toFixed(2)} | ${goal} |`);
  }
  return ok;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(
    "Bundle sizes: wrangler deploy --dry-run --minify, as wrangler prints them (Total Upload / gzip)\n",
  );
  if (!report()) process.exitCode = 1;
}
