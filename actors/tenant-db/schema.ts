import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One TenantDB actor holds the users, projects and tasks of one tenant (its name): the data
 * model of Use Case 1. Times are ISO-8601 strings written by the actor (never SQLite's
 * CURRENT_TIMESTAMP, whose format does not sort with them); `tasks.done_at` alone is epoch ms,
 * the time column the archive needs.
 */

export const USER_ROLES = ["owner", "admin", "member"] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const PROJECT_STATUSES = ["active", "archived", "deleted"] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];
export const TASK_STATUSES = ["todo", "in_progress", "review", "done"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull().default("member"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [check("users_role_known", sql`${t.role} IN ('owner', 'admin', 'member')`)],
);

export const projects = sqliteTable(
  "projects",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    name: text("name").notNull(),
    description: text("description"),
    ownerId: integer("owner_id")
      .notNull()
      .references(() => users.id),
    status: text("status", { enum: PROJECT_STATUSES }).notNull().default("active"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    check("projects_status_known", sql`${t.status} IN ('active', 'archived', 'deleted')`),
    index("idx_projects_owner").on(t.ownerId),
    index("idx_projects_status").on(t.status, t.updatedAt),
  ],
);

export const tasks = sqliteTable(
  "tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    description: text("description"),
    assigneeId: integer("assignee_id").references(() => users.id),
    status: text("status", { enum: TASK_STATUSES }).notNull().default("todo"),
    priority: integer("priority").notNull().default(0),
    dueDate: text("due_date"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    /**
     * When the task became done, epoch ms (NULL while it is not done): what the archive selects by
     * (tiering archives by an epoch time column; tasks done long ago move to `<tenant>/archive/`).
     */
    doneAt: integer("done_at"),
  },
  (t) => [
    check("tasks_status_known", sql`${t.status} IN ('todo', 'in_progress', 'review', 'done')`),
    index("idx_tasks_project").on(t.projectId),
    index("idx_tasks_assignee").on(t.assigneeId),
    index("idx_tasks_status").on(t.status),
    index("idx_tasks_done_at").on(t.doneAt),
  ],
);

/**
 * How many tasks of each project an archived file holds (a file never changes: its key names its
 * content). listProjects adds them to the hot tasks, so archiving keeps `task_count`; a file is
 * counted once when it is new to the archive's manifest, and its rows go when retention deletes it.
 */
export const archivedTaskCounts = sqliteTable(
  "archived_task_counts",
  {
    fileKey: text("file_key").notNull(),
    projectId: integer("project_id").notNull(),
    tasks: integer("tasks").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.fileKey, t.projectId] }),
    index("idx_archived_task_counts_project").on(t.projectId),
  ],
);
