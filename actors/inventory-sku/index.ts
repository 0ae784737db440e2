// `dosql-actors/actors/inventory-sku`: the InventorySKU actor alone (its routes are
// `dosql-actors/actors/inventory-sku/routes`), so re-exporting it bundles no other actor.
// Classes and types only: a Worker may `export *` from here, and workerd refuses any other value
// exported by a Worker's main module.
export {
  type Details,
  type Figures,
  InventorySKU,
  type InventoryStatus,
  type LogEntry,
  type ReserveManyItem,
  type ReserveResult,
} from "./inventory-sku";
