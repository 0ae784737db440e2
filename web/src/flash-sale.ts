// The flash sale: a fresh SKU, its figures followed live over the socket, and N buyers at once.
import type { InventorySKU } from "../../actors/inventory-sku/inventory-sku";
import { type ActorClient, connect, RpcError } from "../../src/client/index";
import { api } from "./api";
import { byId, numberOf, say } from "./dom";
import type { InventoryStatus } from "./inventory-types";

type Figures = { available: number; reserved: number; sold: number };
export type SaleListener = (sku: string) => void;

let client: ActorClient<typeof InventorySKU> | undefined;
let current: string | undefined;
let restocked = 0;

export const currentSku = () => current;

/** Draw the gauge and the figures. */
function show(f: Figures) {
  for (const key of ["available", "reserved", "sold"] as const) {
    byId(key).textContent = String(f[key]);
    byId(`bar-${key}`).style.width = `${restocked ? (100 * f[key]) / restocked : 0}%`;
  }
  byId("restocked").textContent = String(restocked);
}

/** Restock a new SKU with the units asked for, and follow its figures live. */
export async function startSale(onStart: SaleListener) {
  client?.$close();
  const sku = `sale-${Date.now().toString(36)}`;
  const units = numberOf("stock");
  const status = await api<InventoryStatus>(`/inventory/${sku}/restock`, {
    quantity: units,
    productName: "Flash sale sneaker",
  });
  current = sku;
  restocked = status.restocked;
  byId("sku-name").textContent = sku;
  show(status);
  say(byId("verdict"), "");
  client = connect<typeof InventorySKU>(`/inventory/${sku}/ws`);
  client.$on("open", () => {
    byId("socket").textContent = "open";
  });
  client.$on("close", () => {
    byId("socket").textContent = "reconnecting";
  });
  // A live query selects the table's primary key (`sku`): rows are kept by it.
  const live = client.$live<Figures>("SELECT sku, available, reserved, sold FROM inventory");
  live.onChange((rows) => rows[0] && show(rows[0]));
  // `ready` resolves with the first rows; a refused query calls onError instead.
  await new Promise<void>((resolve, reject) => {
    live.onError(reject);
    void live.ready.then(() => resolve());
  });
  onStart(sku);
}

/** N buyers, each reserving one unit and confirming it when they got one, all at once. */
export async function runBuyers(): Promise<void> {
  const sku = client;
  if (!sku || !current) return;
  const buyers = numberOf("buyers");
  const run = Date.now().toString(36);
  const verdict = byId("verdict");
  say(verdict, `${buyers} buyers running…`);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: buyers }, async (_, i) => {
      const orderId = `buyer-${run}-${i}`;
      try {
        await sku.reserve({ orderId, quantity: 1 });
        await sku.confirm({ orderId });
        return "bought";
      } catch (e) {
        return e instanceof RpcError ? e.code : "ERROR";
      }
    }),
  );
  const ms = Math.round(performance.now() - started);
  const count = (what: string) => outcomes.filter((o) => o === what).length;
  const bought = count("bought");
  const refused = count("INSUFFICIENT_STOCK");
  const other = buyers - bought - refused;
  const status = await sku.status();
  show(status);
  const held = status.available + status.reserved + status.sold === status.restocked;
  const ok = status.sold === bought && status.sold <= status.restocked && held && other === 0;
  const soldOut = status.sold === status.restocked ? "sold == stock" : `${status.available} left`;
  say(
    verdict,
    `${bought} bought, ${refused} refused (INSUFFICIENT_STOCK)${other ? `, ${other} other errors` : ""} in ${ms} ms: ` +
      `sold ${status.sold} of ${status.restocked} (${soldOut}), ${ok ? "no oversell" : "MISMATCH"}`,
    ok,
  );
  verdict.dataset.sold = String(status.sold);
  verdict.dataset.stock = String(status.restocked);
  verdict.dataset.bought = String(bought);
}
