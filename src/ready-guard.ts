/**
 * Every public method of an actor must refuse to run while the actor is not ready (a migration
 * failed). Rather than asking each actor author to remember a check, the methods that subclasses
 * declare are wrapped once per class with `this.assertReady()`. Sync methods stay sync.
 */
const guarded = new WeakSet<object>();

/** The runtime's and partyserver's entry points: never wrapped here, never schedulable. */
export const ENTRY_POINTS: readonly string[] = [
  "constructor",
  "fetch",
  "alarm",
  "webSocketMessage",
  "webSocketClose",
  "webSocketError",
  "setName",
  "_initAndFetch",
  "__unsafe_ensureInitialized",
  "assertReady",
];
const SKIP = new Set(ENTRY_POINTS);

export function guardPublicMethods(cls: Function, base: Function): void {
  for (let proto = cls.prototype; proto && proto !== base.prototype; proto = Object.getPrototypeOf(proto)) {
    if (guarded.has(proto)) break;
    guarded.add(proto);
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (SKIP.has(name) || /^on[A-Z]/.test(name) || name.startsWith("_")) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (!desc || typeof desc.value !== "function") continue;
      const original = desc.value as (...args: unknown[]) => unknown;
      const wrapped = function (this: { assertReady(): void }, ...args: unknown[]) {
        this.assertReady();
        return original.apply(this, args);
      };
      Object.defineProperty(wrapped, "name", { value: name });
      Object.defineProperty(proto, name, { ...desc, value: wrapped });
    }
  }
}
