// Run `drizzle-kit generate` for every actor folder that has a schema.ts (or only those named):
//   npm run db:generate                      all actors
//   npm run db:generate -- inventory-sku     one actor
//   npm run db:generate -- order --name=add_notes
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const named = args.filter((a) => !a.startsWith("--"));
const passThrough = args.filter((a) => a.startsWith("--"));
const actors = readdirSync(join(root, "actors"), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, "actors", d.name, "schema.ts")))
  .map((d) => d.name)
  .filter((name) => named.length === 0 || named.includes(name));

const unknown = named.filter((n) => !actors.includes(n));
if (unknown.length > 0) {
  console.error(`no actors/<name>/schema.ts for: ${unknown.join(", ")}`);
  process.exit(1);
}

for (const actor of actors) {
  console.log(`\n== ${actor}`);
  const result = spawnSync(
    "npx",
    ["drizzle-kit", "generate", "--config", "drizzle.config.ts", ...passThrough],
    { cwd: root, stdio: "inherit", env: { ...process.env, DOSQL_ACTOR: actor } },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
