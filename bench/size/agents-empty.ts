// Size fixture, for comparison: an empty Agents SDK Agent (`npm run size`; agents is a devDependency only).
import { Agent } from "agents";

export class EmptyAgent extends Agent<Cloudflare.Env> {}

export default { fetch: () => new Response("agents") };
