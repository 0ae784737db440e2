// The bindings the package's own code reads, for `npm run build`'s declarations
// (the repository's tests use types/env.d.ts, which adds the test fixtures).
declare namespace Cloudflare {
  interface Env {
    ARCHIVE: R2Bucket;
    INVENTORY_SKU: DurableObjectNamespace<import("../actors/inventory-sku/inventory-sku").InventorySKU>;
    ORDER: DurableObjectNamespace<import("../actors/order/order").Order>;
  }
}
interface Env extends Cloudflare.Env {}
