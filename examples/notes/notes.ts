// The README's quick start as a Worker: an actor of one's own, called over an RPC stub.
import { ActorError, defineActor, SqlActor } from "dosql-actors";
import migrations from "./migrations/migrations.js";
import { notes } from "./schema";

const schema = { notes };

export class Notes extends SqlActor<Env, typeof schema> {
  static override config = defineActor({ schema, migrations });

  add(body: string) {
    if (typeof body !== "string" || body.length === 0)
      throw new ActorError("VALIDATION_FAILED", "body is required");
    return this.db.insert(notes).values({ body }).returning().get();
  }

  count(): number {
    return this.query<{ n: number }>("SELECT count(*) AS n FROM notes")[0].n;
  }
}

type NotesEnv = { NOTES: DurableObjectNamespace<Notes> };

export default {
  async fetch(request: Request, env: NotesEnv): Promise<Response> {
    const stub = env.NOTES.getByName(new URL(request.url).searchParams.get("team") ?? "default");
    try {
      if (request.method === "POST")
        return Response.json(await stub.add(await request.text()), { status: 201 });
      return Response.json({ count: await stub.count() });
    } catch (err) {
      const e = ActorError.from(err);
      if (e) return Response.json({ error: { code: e.code, message: e.description } }, { status: e.status });
      throw err;
    }
  },
};
