// The bindings the package's own code reads, for `npm run build`'s declarations
// (the repository's tests use types/env.d.ts, which adds the test fixtures).
declare namespace Cloudflare {
  interface Env {
    ARCHIVE: R2Bucket;
    INVENTORY_SKU: DurableObjectNamespace<import("../actors/inventory-sku/inventory-sku").InventorySKU>;
    ORDER: DurableObjectNamespace<import("../actors/order/order").Order>;
    REGIONAL_ANALYTICS: DurableObjectNamespace<
      import("../actors/regional-analytics/regional-analytics").RegionalAnalytics
    >;
    GLOBAL_ANALYTICS: DurableObjectNamespace<
      import("../actors/global-analytics/global-analytics").GlobalAnalytics
    >;
    BUILDING_TELEMETRY: DurableObjectNamespace<
      import("../actors/building-telemetry/building-telemetry").BuildingTelemetry
    >;
    CENTRAL_TELEMETRY: DurableObjectNamespace<
      import("../actors/central-telemetry/central-telemetry").CentralTelemetry
    >;
    COLLABORATIVE_DOCUMENT: DurableObjectNamespace<
      import("../actors/collaborative-document/collaborative-document").CollaborativeDocument
    >;
    TENANT_DB: DurableObjectNamespace<import("../actors/tenant-db/tenant-db").TenantDB>;
    /** Optional bindings and secrets the coordinator and the prebuilt actors read. */
    DIRECTORY?: DurableObjectNamespace<import("../src/coordinator/directory").Directory>;
    CHECKOUT_LIMIT?: RateLimit;
    ANALYTICS_INGEST_LIMIT?: RateLimit;
    ANALYTICS_SALT?: string;
    ANALYTICS_RETENTION_DAYS?: string;
    AUTH_JWT_SECRET?: string;
    AUTH_JWKS?: string;
    ADMIN_TOKEN?: string;
    INVENTORY_MAX_TTL_MINUTES?: string;
  }
}
interface Env extends Cloudflare.Env {}
