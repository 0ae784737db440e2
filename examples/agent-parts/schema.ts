import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const notes = sqliteTable("notes", {
  id: integer().primaryKey({ autoIncrement: true }),
  body: text().notNull(),
});
