import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { Order } from "../actors/index";

let seq = 0;
/** A name no other test of the file uses (storage is shared per test file, names are not). */
export const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
export const sku = (name: string) => env.INVENTORY_SKU.getByName(name);
export const order = (id: string) => env.ORDER.getByName(id);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** POST /checkout through the coordinator: `quantity` of each SKU at 10 each, for `customerId`. */
export const checkout = (orderId: string, skus: string[], { quantity = 1, customerId = "cust-s" } = {}) =>
  exports.default.fetch("http://c/checkout", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      orderId,
      customerId,
      items: skus.map((s) => ({ sku: s, quantity, unitPrice: 10 })),
    }),
  });

/** SKUs `<prefix>-sku0…`, each restocked with its quantity; their names. */
export async function stock(prefix: string, quantities: number[]): Promise<string[]> {
  const names = quantities.map((_, i) => `${prefix}-sku${i}`);
  await Promise.all(names.map((n, i) => sku(n).restock({ quantity: quantities[i] })));
  return names;
}

/** Make the order's task `key` due now and run the order's real alarm. */
export async function runTask(orderId: string, key: string) {
  await runInDurableObject(order(orderId), (actor: Order) => {
    actor.run("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = ?", [Date.now() - 1, key]);
  });
  return runDurableObjectAlarm(order(orderId));
}
