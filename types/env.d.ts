// Bindings of the coordinator Worker (wrangler.jsonc) and of the test Worker (test/wrangler.jsonc).
declare namespace Cloudflare {
  interface Env {
    ARCHIVE: R2Bucket;
    ASSETS?: Fetcher;
    FIXTURE: DurableObjectNamespace<import("../test/fixtures/actors").FixtureActor>;
    PLAIN_NOTES: DurableObjectNamespace<import("../test/fixtures/actors").PlainNotes>;
    TIERED: DurableObjectNamespace<import("../test/fixtures/tiered").TieredActor>;
  }
}
interface Env extends Cloudflare.Env {}
