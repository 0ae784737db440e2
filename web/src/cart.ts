// A cart across three SKUs checked out through the Order actor; when one line is short, the other
// lines' reservations are released again (compensation), shown in each SKU's own audit log.
import { ApiError, api } from "./api";
import { byId, fillTable, numberOf, say, time } from "./dom";
import type { InventoryStatus, LogEntry, OrderView } from "./inventory-types";

const SHELVES = { mug: 5, tee: 5, cap: 1 } as const;
type Item = keyof typeof SHELVES;
const PRICES: Record<Item, number> = { mug: 1200, tee: 2500, cap: 1800 };
let shelf = "";

const skuOf = (item: Item) => `cart-${item}-${shelf}`;

/** Three new SKUs with the stock of SHELVES. */
export async function stockShelves() {
  shelf = Date.now().toString(36);
  for (const item of Object.keys(SHELVES) as Item[])
    await api<InventoryStatus>(`/inventory/${skuOf(item)}/restock`, {
      quantity: SHELVES[item],
      productName: item,
    });
  say(
    byId("cart-result"),
    `shelves stocked: ${Object.entries(SHELVES)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  await showSkus();
}

export async function checkout() {
  const orderId = `cart-${Date.now().toString(36)}`;
  const items = (Object.keys(SHELVES) as Item[])
    .map((item) => ({ sku: skuOf(item), quantity: numberOf(`q-${item}`), unitPrice: PRICES[item] }))
    .filter((line) => line.quantity > 0);
  const result = byId("cart-result");
  try {
    const { order } = await api<{ order: OrderView }>("/checkout", {
      orderId,
      customerId: "demo-customer",
      items,
    });
    say(result, `order ${order.id} ${order.status}: every line reserved (total ${order.total / 100})`, true);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const failures = (e.details?.failures ?? []) as { sku: string; code: string }[];
    const why = failures.map((f) => `${f.sku} ${f.code}`).join(", ");
    say(result, `order ${orderId} ${e.code} (${why || e.message}): the other lines were released`, false);
  }
  await showSkus(orderId);
}

/** Each SKU's figures, and what its audit log holds for this order (reserve, then release). */
async function showSkus(orderId?: string) {
  const rows: (string | number | null)[][] = [];
  for (const item of Object.keys(SHELVES) as Item[]) {
    const sku = skuOf(item);
    const status = await api<InventoryStatus>(`/inventory/${sku}/status`);
    const { history } = await api<{ history: LogEntry[] }>(`/inventory/${sku}/history?limit=20`);
    const mine = history.filter((h) => orderId && h.referenceId === orderId).reverse();
    const log = mine.map((h) => `${time(h.timestamp)} ${h.operation} ${h.quantity}`).join(" → ");
    rows.push([item, status.available, status.reserved, status.sold, log || "–"]);
  }
  fillTable(
    byId<HTMLTableElement>("cart-table"),
    ["sku", "available", "reserved", "sold", "this order"],
    rows,
  );
}
