// Size fixture and control of the bundle test: one SqlActor with history and tiering configured.
import { defineActor, SqlActor } from "dosql-actors";
import { history } from "dosql-actors/history";
import { tiering } from "dosql-actors/tiering";

export class Archived extends SqlActor {
  static override config = defineActor({
    schema: {},
    history: history({ tables: "all" }),
    tiering: tiering({ binding: "ARCHIVE" }),
  });
}

export default { fetch: () => new Response("all parts") };
