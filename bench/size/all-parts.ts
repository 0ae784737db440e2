// Size fixture and control of the bundle test: one SqlActor with history and tiering configured.

import { history } from "../../src/history/index";
import { defineActor, SqlActor } from "../../src/index";
import { tiering } from "../../src/tiering/index";

export class Archived extends SqlActor {
  static override config = defineActor({
    schema: {},
    history: history({ tables: "all" }),
    tiering: tiering({ binding: "ARCHIVE" }),
  });
}

export default { fetch: () => new Response("all parts") };
