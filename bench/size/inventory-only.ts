// Size fixture: an app that re-exports the prebuilt InventorySKU alone (`npm run size`).
export { InventorySKU } from "../../actors/inventory-sku/index";

export default { fetch: () => new Response("inventory") };
