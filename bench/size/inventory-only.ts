// Size fixture: an app that re-exports the prebuilt InventorySKU alone (`npm run size`).
export { InventorySKU } from "dosql-actors/actors/inventory-sku";

export default { fetch: () => new Response("inventory") };
