// InventorySKU extended: a custom method (`watch`, "tell me when it is back") over a table of its
// own, added by one more migration after the prebuilt actor's.
import { ActorError, actorStub, defineActor, type MigrationBundle } from "dosql-actors";
import { InventorySKU } from "dosql-actors/actors/inventory-sku";
import watchersSql from "../migrations/0100_watchers.sql";

const base = InventorySKU.config.migrations!;
/**
 * The prebuilt actor's migrations, then this one. Its index (100) sorts after theirs; the runner
 * applies a bundle in order and refuses one whose applied prefix changed (MIGRATION_OUT_OF_ORDER),
 * so a package update that adds migrations of its own needs this one moved after them (see README).
 */
const migrations: MigrationBundle = {
  journal: { entries: [...(base.journal?.entries ?? []), { idx: 100, tag: "0100_watchers" }] },
  migrations: { ...base.migrations, m0100: watchersSql },
};

/** The method's input, checked on every path (RPC from anywhere, or this Worker's route). */
function watchInput(input: unknown): { userId: string } {
  const userId = (input as { userId?: unknown } | null)?.userId;
  if (typeof userId !== "string" || userId.length < 1 || userId.length > 128)
    throw new ActorError("VALIDATION_FAILED", "userId: 1-128 characters");
  return { userId };
}

export class MyInventory extends InventorySKU {
  static override config = defineActor({ ...InventorySKU.config, migrations });

  /** Add a watcher (idempotent per user); answers how many watch this SKU. */
  watch(input: { userId: string }): { watchers: number } {
    const { userId } = watchInput(input);
    if (this.status().available > 0)
      throw new ActorError("IN_STOCK", "this SKU is in stock: reserve it instead", { sku: this.name });
    this.run("INSERT INTO watchers (user_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING", [
      userId,
      new Date().toISOString(),
    ]);
    return { watchers: this.watchers() };
  }

  watchers(): number {
    return this.query<{ n: number }>("SELECT count(*) AS n FROM watchers")[0].n;
  }
}
ActorError.defineStatus("IN_STOCK", 409);

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    try {
      const sku = actorStub(env.MY_INVENTORY, url.pathname.slice(1) || "default");
      if (request.method === "POST") return Response.json(await sku.watch(await request.json()));
      return Response.json({ ...(await sku.status()), watchers: await sku.watchers() });
    } catch (err) {
      const e = ActorError.from(err);
      if (!e) throw err;
      return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
    }
  },
} satisfies ExportedHandler<Env>;
