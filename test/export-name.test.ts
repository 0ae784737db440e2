// exportNameOf: the name actors are reached by through ctx.exports (src/export-name.ts), which
// must survive a minifier renaming classes (wrangler `keep_names: false`, as wrangler.jsonc sets).
import { describe, expect, it } from "vitest";
import * as actors from "../actors/index";
import { InventorySKU } from "../actors/inventory-sku/index";
import { ActorError } from "../src/errors";
import { exportNameOf } from "../src/export-name";
import { SqlActor } from "../src/index";

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return ActorError.from(err)?.code;
  }
  return undefined;
};

describe("exportNameOf", () => {
  it("every prebuilt actor declares the name it is exported under", () => {
    const classes = Object.entries(actors).filter(
      ([, value]) => typeof value === "function" && value.prototype instanceof SqlActor,
    );
    expect(classes.length).toBe(8);
    for (const [name, actorClass] of classes) {
      expect(Object.hasOwn(actorClass, "exportName")).toBe(true);
      expect(exportNameOf(actorClass as typeof SqlActor)).toBe(name);
    }
  });

  it("the declared name wins over a renamed class's own name", () => {
    class Renamed extends SqlActor {
      static override exportName = "Tasks";
    }
    Object.defineProperty(Renamed, "name", { value: "t" });
    expect(exportNameOf(Renamed)).toBe("Tasks");
  });

  it("without one, the class's own name; a subclass does not inherit its parent's", () => {
    class Tasks extends SqlActor {}
    expect(exportNameOf(Tasks)).toBe("Tasks");
    class MyInventory extends InventorySKU {}
    expect(exportNameOf(MyInventory)).toBe("MyInventory");
  });

  it("a declared name that is not an identifier is INVALID_CONFIG", () => {
    for (const bad of ["", "two words", "1st", "a".repeat(129), 7, null]) {
      class Bad extends SqlActor {}
      Object.defineProperty(Bad, "exportName", { value: bad });
      expect(codeOf(() => exportNameOf(Bad))).toBe("INVALID_CONFIG");
    }
  });
});
