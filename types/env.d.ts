// Bindings of the coordinator Worker (wrangler.jsonc) and of the test Worker (test/wrangler.jsonc).
declare namespace Cloudflare {
  interface Env {
    ARCHIVE: R2Bucket;
    ASSETS?: Fetcher;
    FIXTURE: DurableObjectNamespace<import("../test/fixtures/actors").FixtureActor>;
    PLAIN_NOTES: DurableObjectNamespace<import("../test/fixtures/actors").PlainNotes>;
    TIERED: DurableObjectNamespace<import("../test/fixtures/tiered").TieredActor>;
    SOURCED: DurableObjectNamespace<import("../test/fixtures/sources-actors").SourcedActor>;
    INVENTORY_SKU: DurableObjectNamespace<import("../actors/inventory-sku/inventory-sku").InventorySKU>;
    ORDER: DurableObjectNamespace<import("../actors/order/order").Order>;
    REGIONAL_ANALYTICS: DurableObjectNamespace<
      import("../actors/regional-analytics/regional-analytics").RegionalAnalytics
    >;
    GLOBAL_ANALYTICS: DurableObjectNamespace<
      import("../actors/global-analytics/global-analytics").GlobalAnalytics
    >;
    TENANT_DB: DurableObjectNamespace<import("../actors/tenant-db/tenant-db").TenantDB>;
    BUILDING_TELEMETRY: DurableObjectNamespace<
      import("../actors/building-telemetry/building-telemetry").BuildingTelemetry
    >;
    CENTRAL_TELEMETRY: DurableObjectNamespace<
      import("../actors/central-telemetry/central-telemetry").CentralTelemetry
    >;
    /** A building whose archive binding can be pointed at a missing bucket (test/fixtures/telemetry.ts). */
    /** A building without the outbox (no history, no forward): test/fixtures/telemetry.ts. */
    LOCAL_BUILDING: DurableObjectNamespace<import("../test/fixtures/telemetry").LocalBuilding>;
    /** A KV namespace where a test points a building's archive: not R2, so the put fails. */
    NOT_R2: KVNamespace;
    OFFLINE_ARCHIVE_BUILDING: DurableObjectNamespace<
      import("../test/fixtures/telemetry").OfflineArchiveBuilding
    >;
    COLLABORATIVE_DOCUMENT: DurableObjectNamespace<
      import("../actors/collaborative-document/collaborative-document").CollaborativeDocument
    >;
    EXAMPLE_NOTES: DurableObjectNamespace<import("../examples/notes/notes").Notes>;
    NOTES_AGENT: DurableObjectNamespace<import("../examples/agent-parts/agent").NotesAgent>;
    SCHEDULED: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").ScheduledActor>;
    LONG_LEASE: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").LongLeaseActor>;
    EVERY_WAKE: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").EveryWakeActor>;
    CHAT_ROOM: DurableObjectNamespace<import("../test/fixtures/chat-room").ChatRoom>;
    QUIET_ROOM: DurableObjectNamespace<import("../test/fixtures/chat-room").QuietRoom>;
    HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").HistoryActor>;
    LISTED_HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").ListedHistoryActor>;
    NO_HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").NoHistoryActor>;
    FORWARD_SOURCE: DurableObjectNamespace<import("../test/fixtures/forward-actors").ForwardSource>;
    FORWARD_SINK: DurableObjectNamespace<import("../test/fixtures/forward-actors").ForwardSink>;
    BAD_FORWARD: DurableObjectNamespace<import("../test/fixtures/forward-actors").BadForward>;
    BACKED_UP_FORWARD: DurableObjectNamespace<
      import("../test/fixtures/forward-actors").BackedUpForwardSource
    >;
    RECONFIGURED_FORWARD: DurableObjectNamespace<
      import("../test/fixtures/forward-actors").ReconfiguredSource
    >;
    BACKED_UP_SINK: DurableObjectNamespace<import("../test/fixtures/forward-actors").BackedUpForwardSink>;
    RESTORED_SINK_SOURCE: DurableObjectNamespace<
      import("../test/fixtures/forward-actors").RestoredSinkSource
    >;
    FORWARD_QUEUE: Queue<import("../src/forward/index").ForwardBatch>;
    MIGRATING: DurableObjectNamespace<import("../test/fixtures/migration-actors").MigratingActor>;
    MIGRATING_HISTORY: DurableObjectNamespace<
      import("../test/fixtures/migration-actors").MigratingHistoryActor
    >;
    MIGRATING_TIERED: DurableObjectNamespace<
      import("../test/fixtures/migration-actors").MigratingTieredActor
    >;
    HISTORY_FK: DurableObjectNamespace<import("../test/fixtures/history-fk").HistoryFkActor>;
    CORE_AUDIT: DurableObjectNamespace<import("../test/fixtures/core-audit").CoreAuditActor>;
    BACKED_UP_INVENTORY: DurableObjectNamespace<
      import("../test/fixtures/backed-up-inventory").BackedUpInventory
    >;
    RPC_ACTOR: DurableObjectNamespace<import("../test/fixtures/rpc-actor").RpcActor>;
    NO_RPC_ACTOR: DurableObjectNamespace<import("../test/fixtures/rpc-actor").NoRpcActor>;
    /** Names of actors ever written, so lookups of unknown ones create nothing (src/coordinator/directory.ts). */
    DIRECTORY: DurableObjectNamespace<import("../src/coordinator/directory").Directory>;
    /** The fleet registries, one object per actor kind (src/fleet). */
    FLEET: DurableObjectNamespace<import("../src/fleet/registry").FleetRegistry>;
    FLEET_TENANT: DurableObjectNamespace<import("../test/fixtures/fleet-tenant").FleetTenant>;
    RENAMED_TENANT: DurableObjectNamespace<import("../test/fixtures/fleet-tenant").RenamedTenant>;
    /** Workers rate limiting: checkout per customer and per IP (optional). */
    CHECKOUT_LIMIT?: RateLimit;
    /** Workers rate limiting: analytics ingest per client IP (optional). */
    ANALYTICS_INGEST_LIMIT?: RateLimit;
    /** The secret salt of user-id hashes (actors/regional-analytics); required once auth is configured. */
    ANALYTICS_SALT?: string;
    /** Days raw events are kept (default 30, at least 8). */
    ANALYTICS_RETENTION_DAYS?: string;
    /** Auth (src/coordinator/auth.ts): with none set, development mode (everything open). */
    AUTH_JWT_SECRET?: string;
    AUTH_JWKS?: string;
    ADMIN_TOKEN?: string;
    /** Longest reservation hold in minutes (default 60). */
    INVENTORY_MAX_TTL_MINUTES?: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../test/worker");
  }
}
interface Env extends Cloudflare.Env {}
