import { quietStub } from "../quiet";
import { actorName } from "./validate";

/**
 * The stub of the actor called `name` in `ns`, after checking the name. Typed by the namespace,
 * so `actorStub(env.INVENTORY_SKU, sku).reserve(...)` is checked against the actor's methods.
 * An ActorError the actor throws is thrown here, and the actor logs nothing (src/quiet.ts).
 */
export function actorStub<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  name: string | undefined,
): DurableObjectStub<T> {
  return quietStub(ns.getByName(actorName(name)));
}
