// Pay for what you use, checked on the bundle itself: wrangler builds each fixture of
// scripts/size.mjs and its module list (esbuild's metafile) says which source files it carries.
import { describe, expect, it } from "vitest";
import { build, TARGETS } from "../../scripts/size.mjs";

type Built = { gzip: number; modules: string[]; bytes: Map<string, number>; code: string };
const target = (name: string) => TARGETS.find((t: { name: string }) => t.name === name);
const bundle = (name: string): Built => build(target(name));

/** Source files of one part (src/history, src/tiering) or one package in the bundle. */
const partModules = (modules: string[], part: string) => modules.filter((m) => m.includes(part));

describe("bundles", () => {
  it("a SqlActor without history or tiering loads none of their modules", () => {
    const { modules } = bundle("minimal");
    expect(modules.some((m) => m.endsWith("src/sql-actor.ts"))).toBe(true);
    expect(partModules(modules, "src/history/")).toEqual([]);
    expect(partModules(modules, "src/tiering/")).toEqual([]);
    expect(partModules(modules, "node_modules/hyparquet")).toEqual([]);
    expect(partModules(modules, "src/sources/")).toEqual([]);
    expect(partModules(modules, "node_modules/papaparse")).toEqual([]);
    expect(partModules(modules, "actors/")).toEqual([]);
  });

  it("the same with history and tiering configured carries both (the control)", () => {
    const { modules } = bundle("all-parts");
    expect(modules.some((m) => m.endsWith("src/history/engine.ts"))).toBe(true);
    expect(modules.some((m) => m.endsWith("src/tiering/tiering.ts"))).toBe(true);
    expect(partModules(modules, "node_modules/hyparquet-writer").length).toBeGreaterThan(0);
  });

  it("tiering carries one hyparquet and only the reader and writer modules it calls", () => {
    // What the output holds (the module list also names modules parsed and then shaken out).
    const { bytes } = bundle("all-parts");
    const modules = [...bytes].filter(([, n]) => n > 0).map(([m]) => m);
    // hyparquet-writer pins an older hyparquet; package.json "overrides" makes it share ours.
    expect(partModules(modules, "hyparquet-writer/node_modules/")).toEqual([]);
    // Deep imports: a dynamic import of a package index would keep every export of it.
    for (const unused of [
      "hyparquet/src/query.js",
      "hyparquet/src/read.js",
      "hyparquet-writer/src/write.js",
      "hyparquet-writer/src/write-rows.js",
    ])
      expect(partModules(modules, `node_modules/${unused}`)).toEqual([]);
    expect(modules.some((m) => m.endsWith("node_modules/hyparquet/src/scan.js"))).toBe(true);
    expect(modules.some((m) => m.endsWith("node_modules/hyparquet-writer/src/parquet-writer.js"))).toBe(true);
  });

  it("the sources part brings papaparse and its own files, not tiering's writer", () => {
    const { modules } = bundle("sources");
    expect(modules.some((m) => m.endsWith("src/sources/reader.ts"))).toBe(true);
    expect(partModules(modules, "node_modules/papaparse").length).toBeGreaterThan(0);
    expect(partModules(modules, "node_modules/hyparquet-writer")).toEqual([]);
    expect(partModules(modules, "src/tiering/tiering.ts")).toEqual([]);
  });

  it("re-exporting InventorySKU alone bundles neither Order nor its migrations, nor tiering", () => {
    const { modules } = bundle("inventory-only");
    expect(modules.some((m) => m.endsWith("actors/inventory-sku/inventory-sku.ts"))).toBe(true);
    expect(partModules(modules, "actors/order/")).toEqual([]);
    expect(partModules(modules, "migrations/order/")).toEqual([]);
    expect(partModules(modules, "src/tiering/")).toEqual([]);
  });

  it("the coordinator carries zod's English messages only, not every locale", () => {
    // `z.core` / `z.regexes` read off the zod/mini namespace kept all of zod's core, every locale
    // included (+415 KiB minified); named imports from zod/v4/core keep what is used.
    const { bytes, code } = bundle("coordinator");
    const modules = [...bytes].filter(([, n]) => n > 0).map(([m]) => m);
    const locales = partModules(modules, "zod/v4/locales/");
    expect(locales.map((m) => m.slice(m.lastIndexOf("/") + 1))).toEqual(["en.js"]);
    // zod's `regexes` namespace, read as an object, kept all ~60 of its regexes (6.6 KiB); the
    // patterns read off the schemas the inputs use keep only those (1.2 KiB).
    expect(bytes.get("node_modules/zod/v4/core/regexes.js")).toBeLessThan(2048);
    // `z.iso.datetime` / `z.iso.date` kept the whole `z.iso` namespace object, its time and
    // duration schemas included (src/iso-input.ts builds the two used without it).
    expect(code).not.toContain("ZodMiniISODuration");
    expect(code).not.toContain("ZodMiniISOTime");
  });

  it("the coordinator is minified without names, and each actor says the name it is exported under", () => {
    // wrangler.jsonc `keep_names: false`: classes are renamed and nothing sets their `name` back
    // (with keep_names, esbuild adds `helper(Class, "InventorySKU")` for each). The fleet registry and
    // history branches reach actors through ctx.exports by `static exportName` instead
    // (src/export-name.ts; test/fleet.test.ts runs a renamed class).
    const { code } = bundle("coordinator");
    const exported = /export\{([^}]*)\};?\s*(\/\/.*)?$/.exec(code.trimEnd());
    expect(exported).not.toBeNull();
    const actors = ["BuildingTelemetry", "CentralTelemetry", "CollaborativeDocument", "GlobalAnalytics"];
    actors.push("InventorySKU", "Order", "RegionalAnalytics", "TenantDB");
    for (const name of actors) {
      const local = new RegExp(`([\\w$]+) as ${name}\\b`).exec(exported![1])?.[1];
      expect(local, name).toBeDefined();
      expect(local).not.toBe(name);
      expect(code).toContain(`exportName="${name}"`);
      // The quoted name appears once: in `exportName`, not in a name-keeping call.
      expect(code.split(`"${name}"`).length - 1, name).toBe(1);
    }
  });
});
