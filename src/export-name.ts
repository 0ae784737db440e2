import { ActorError } from "./errors";

/**
 * A JavaScript identifier of at most 128 characters: a Worker's export names, actor method names
 * (forward targets) and the class names the fleet registry is told, all checked by this one pattern.
 */
export const IDENTIFIER = /^[A-Za-z_$][\w$]{0,127}$/;

/**
 * The name the Worker exports an actor class under: its key in `ctx.exports`, by which the fleet
 * registry reaches the members of a kind and history branches create actors of the same class.
 *
 * The class's own `static exportName` when it declares one, else its `name`. A minifier renames
 * classes unless told to keep names (wrangler's `keep_names`, on by default; this project's
 * wrangler.jsonc turns it off), so a class that must be found in a minified Worker declares its
 * export name. Only an own `exportName` counts: a subclass (`class MyInventory extends
 * InventorySKU`) is exported under its own name, not its parent's.
 */
export function exportNameOf(actorClass: { readonly name: string; readonly exportName?: unknown }): string {
  if (!Object.hasOwn(actorClass, "exportName")) return actorClass.name;
  const name = actorClass.exportName;
  if (typeof name !== "string" || !IDENTIFIER.test(name))
    throw new ActorError(
      "INVALID_CONFIG",
      "static exportName must be the class's export name: a JavaScript identifier of at most 128 characters",
    );
  return name;
}
