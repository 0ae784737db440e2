// The prebuilt actors. Each folder: schema.ts, <name>.ts, inputs.ts, routes.ts, README.md.
export { InventorySKU } from "./inventory-sku/inventory-sku";
export { Order } from "./order/order";
