import { ActorError, actorStub, defineActor, SqlActor } from "dosql-actors";
import migrations from "../drizzle/migrations.js";
import { notes } from "./schema";

// A prebuilt actor, bound in wrangler.jsonc as INVENTORY_SKU.
export { InventorySKU } from "dosql-actors/actors/inventory-sku";

const schema = { notes };

ActorError.defineStatus("NOTE_EMPTY", 422);

export class Notes extends SqlActor<Env, typeof schema> {
  static override config = defineActor({ schema, migrations });

  add(body: string) {
    if (typeof body !== "string" || body.trim() === "")
      throw new ActorError("NOTE_EMPTY", "a note needs a body");
    return this.db.insert(notes).values({ body }).returning().get();
  }

  count(): number {
    return this.query<{ n: number }>("SELECT count(*) AS n FROM notes")[0].n;
  }
}

export default {
  async fetch(request, env): Promise<Response> {
    const notes = actorStub(env.NOTES, new URL(request.url).searchParams.get("team") ?? "default");
    try {
      if (request.method === "POST")
        return Response.json(await notes.add(await request.text()), { status: 201 });
      return Response.json({ count: await notes.count() });
    } catch (err) {
      const e = ActorError.from(err);
      if (!e) throw err;
      return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
    }
  },
} satisfies ExportedHandler<Env>;
