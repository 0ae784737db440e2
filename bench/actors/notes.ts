import { DurableObject } from "cloudflare:workers";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { defineActor, SqlActor } from "../../src/index";

const CREATE =
  "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at INTEGER NOT NULL)";
const INSERT = "INSERT INTO notes (body, created_at) VALUES (?, ?)";

const notes = sqliteTable("notes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull(),
});
const schema = { notes };

/** The framework side: one row per call, through `this.run` or drizzle. */
export class BenchNotes extends SqlActor<Env, typeof schema> {
  static override config = defineActor({
    schema,
    migrations: {
      journal: { entries: [{ idx: 0, tag: "0000_notes", when: 0 }] },
      migrations: { m0000: CREATE },
    },
  });

  insertRaw(body: string): number {
    return this.run(INSERT, [body, Date.now()]).lastRowId;
  }

  insertDrizzle(body: string): number {
    return this.db.insert(notes).values({ body, createdAt: Date.now() }).returning({ id: notes.id }).get().id;
  }
}

/** The baseline: a hand-written Durable Object doing the same SQL. */
export class PlainBenchNotes extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(CREATE);
  }

  insertRaw(body: string): number {
    const sql = this.ctx.storage.sql;
    sql.exec(INSERT, body, Date.now());
    return Number(sql.exec("SELECT last_insert_rowid() AS id").one().id);
  }
}
