// Size fixture: one SqlActor with raw SQL, no history, no tiering (`npm run size`).
// Sources by path (what the package entry points "dosql-actors", "dosql-actors/history", … name), so the
// figures do not depend on a build in dist/.
import { defineActor, SqlActor } from "../../src/index";

export class Counter extends SqlActor {
  static override config = defineActor({ schema: {} });

  bump(): number {
    this.run("CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)");
    this.query("INSERT INTO hits (at) VALUES (?)", [Date.now()]);
    return this.query<{ n: number }>("SELECT count(*) AS n FROM hits")[0].n;
  }
}

export default {
  async fetch(_request: Request, env: { COUNTER: DurableObjectNamespace<Counter> }): Promise<Response> {
    return Response.json({ hits: await env.COUNTER.getByName("size").bump() });
  },
};
