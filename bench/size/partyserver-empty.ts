// Size fixture, for comparison: an empty partyserver Server (`npm run size`).
import { Server } from "partyserver";

export class Empty extends Server {}

export default { fetch: () => new Response("partyserver") };
