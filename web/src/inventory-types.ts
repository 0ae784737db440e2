// What the inventory page reads from the InventorySKU actor and the Order actor (their own types).
export type {
  InventoryStatus,
  LogEntry,
  ReserveResult,
} from "../../actors/inventory-sku/inventory-sku";
export type { OrderView } from "../../actors/order/order";
