import { DurableObject } from "cloudflare:workers";
import { defineActor, SqlActor } from "../../src/index";
import { sources } from "../../src/sources/index";

const CREATE =
  "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, category TEXT, price REAL, qty INTEGER, day TEXT)";
export const CATEGORIES = ["tools", "toys", "food", "books"];

/** Row `id` of the bench's items: the same formula as bench/cases/sources.mjs writes to R2. */
export function item(id: number): [number, string, string, number, number, string] {
  return [
    id,
    `item-${id}`,
    CATEGORIES[id % 4],
    (id % 40) * 0.25 + 0.5,
    id % 7,
    `2026-11-${String((id % 28) + 1).padStart(2, "0")}`,
  ];
}

/** The framework side: `this.query` over `'r2://ARCHIVE/bench-sources/…'` (the sources part). */
export class BenchSourced extends SqlActor<Env> {
  static override config = defineActor({
    schema: {},
    sources: sources({
      buckets: ["ARCHIVE"],
      maxRows: 10_000_000,
      maxBytes: 1 << 30,
      maxJsonBytes: 256 << 20,
      timeout: "10m",
    }),
  });

  async scan(sql: string): Promise<unknown[]> {
    return (await this.query(sql as `${string}'r2://${string}`)) as unknown[];
  }
}

/** The baseline: a hand-written Durable Object with the same rows in a real table, same SQL. */
export class PlainSourcesHot extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(CREATE);
  }

  seed(n: number): number {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (let at = 1; at <= n; at += 5_000) {
        const rows = [];
        for (let id = at; id < Math.min(n + 1, at + 5_000); id++) rows.push(item(id));
        sql.exec(
          "INSERT OR REPLACE INTO items SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?)",
          JSON.stringify(rows),
        );
      }
    });
    return n;
  }

  query(sql: string): unknown[] {
    return this.ctx.storage.sql.exec(sql).toArray();
  }
}
