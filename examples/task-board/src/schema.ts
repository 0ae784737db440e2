import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const tasks = sqliteTable("tasks", {
  id: text("id").primaryKey(),
  title: text("title").notNull(),
  done: integer("done").notNull().default(0),
  due_at: integer("due_at").notNull(),
});
export const overdue_runs = sqliteTable("overdue_runs", {
  at: integer("at").primaryKey(),
  overdue: integer("overdue").notNull(),
});
export const activity = sqliteTable(
  "activity",
  {
    board: text("board").notNull(),
    task_id: text("task_id").notNull(),
    title: text("title").notNull(),
    done: integer("done").notNull(),
  },
  (t) => [primaryKey({ columns: [t.board, t.task_id] })],
);
