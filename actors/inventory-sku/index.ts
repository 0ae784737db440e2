// `dosql-actors/actors/inventory-sku`: the InventorySKU actor alone (its routes are
// `dosql-actors/actors/inventory-sku/routes`), so re-exporting it bundles no other actor.
export {
  type Details,
  EXPIRY_INTERVAL_MS,
  type Figures,
  InventorySKU,
  type InventoryStatus,
  type LogEntry,
  type ReserveManyItem,
  type ReserveResult,
} from "./inventory-sku";
