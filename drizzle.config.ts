import { defineConfig } from "drizzle-kit";

/**
 * drizzle-kit config for ONE actor, chosen by `DOSQL_ACTOR` (a folder name under actors/):
 * its schema.ts in, migrations/<actor>/ out. `npm run db:generate` runs it for every actor.
 */
const actor = process.env.DOSQL_ACTOR;
if (!actor || !/^[a-z0-9-]+$/.test(actor))
  throw new Error("set DOSQL_ACTOR to an actor folder (e.g. inventory-sku), or run `npm run db:generate`");

export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: `./actors/${actor}/schema.ts`,
  out: `./migrations/${actor}`,
});
