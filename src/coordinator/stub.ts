import { actorName } from "./validate";

/**
 * The stub of the actor called `name` in `ns`, after checking the name. Typed by the namespace,
 * so `actorStub(env.INVENTORY_SKU, sku).reserve(...)` is checked against the actor's methods.
 */
export function actorStub<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  name: string | undefined,
): DurableObjectStub<T> {
  return ns.getByName(actorName(name));
}
