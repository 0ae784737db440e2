// `dosql-actors/actors/order`: the Order actor alone (its routes are `dosql-actors/actors/order/routes`).
// It calls InventorySKU actors over RPC (a type-only import), so it does not bundle InventorySKU.
export { type LineFailure, Order, type OrderView, type StatusDetails } from "./order";
