// Size fixture of the bundle test: one SqlActor with the sources part (papaparse comes with it).

import { defineActor, SqlActor } from "../../src/index";
import { sources } from "../../src/sources/index";

export class Sourced extends SqlActor {
  static override config = defineActor({ schema: {}, sources: sources({ buckets: ["DATA"] }) });
}

export default { fetch: () => new Response("sources") };
