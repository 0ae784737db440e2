// Bindings of the coordinator Worker (wrangler.jsonc) and of the test Worker (test/wrangler.jsonc).
declare namespace Cloudflare {
  interface Env {
    ARCHIVE: R2Bucket;
    ASSETS?: Fetcher;
    FIXTURE: DurableObjectNamespace<import("../test/fixtures/actors").FixtureActor>;
    PLAIN_NOTES: DurableObjectNamespace<import("../test/fixtures/actors").PlainNotes>;
    TIERED: DurableObjectNamespace<import("../test/fixtures/tiered").TieredActor>;
    INVENTORY_SKU: DurableObjectNamespace<import("../actors/inventory-sku/inventory-sku").InventorySKU>;
    ORDER: DurableObjectNamespace<import("../actors/order/order").Order>;
    EXAMPLE_NOTES: DurableObjectNamespace<import("../examples/notes/notes").Notes>;
    SCHEDULED: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").ScheduledActor>;
    LONG_LEASE: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").LongLeaseActor>;
    EVERY_WAKE: DurableObjectNamespace<import("../test/fixtures/scheduled-actors").EveryWakeActor>;
    CHAT_ROOM: DurableObjectNamespace<import("../test/fixtures/chat-room").ChatRoom>;
    QUIET_ROOM: DurableObjectNamespace<import("../test/fixtures/chat-room").QuietRoom>;
    HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").HistoryActor>;
    LISTED_HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").ListedHistoryActor>;
    NO_HISTORY: DurableObjectNamespace<import("../test/fixtures/history-actors").NoHistoryActor>;
    HISTORY_FK: DurableObjectNamespace<import("../test/fixtures/history-fk").HistoryFkActor>;
  }
  interface GlobalProps {
    mainModule: typeof import("../test/worker");
  }
}
interface Env extends Cloudflare.Env {}
