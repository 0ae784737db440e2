import migrations from "../../migrations/tenant-db/migrations.js";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { rpc } from "../../src/rpc/index";
import { SqlActor } from "../../src/sql-actor";
import type { ArchiveResult } from "../../src/tiering/archive";
import type { BackupResult, RestoreResult } from "../../src/tiering/backup";
import { tiering } from "../../src/tiering/index";
import type { ManifestEntry } from "../../src/tiering/tiering";
import { constraintError, emailTaken, notFound, unknownReference } from "./errors";
import {
  type ArchiveTasksInput,
  archiveTasksInput,
  type CreateProjectInput,
  type CreateTaskInput,
  type CreateUserInput,
  createProjectInput,
  createTaskInput,
  createUserInput,
  type IdInput,
  idInput,
  type ListProjectsInput,
  type ListTasksInput,
  listProjectsInput,
  listTasksInput,
  type RestoreInput,
  restoreInput,
  type UpdateProjectInput,
  type UpdateTaskInput,
  type UpdateUserInput,
  updateProjectInput,
  updateTaskInput,
  updateUserInput,
} from "./inputs";
import type { ProjectStatus, TaskStatus, UserRole } from "./schema";
import * as schema from "./schema";

export interface User {
  id: number;
  email: string;
  name: string;
  role: UserRole;
  created_at: string;
  updated_at: string;
}

export interface Project {
  id: number;
  name: string;
  description: string | null;
  owner_id: number;
  status: ProjectStatus;
  created_at: string;
  updated_at: string;
}

/** A project as lists show it: with its owner's name and its number of tasks. */
export interface ProjectSummary extends Project {
  owner_name: string;
  task_count: number;
}

export interface Task {
  id: number;
  project_id: number;
  title: string;
  description: string | null;
  assignee_id: number | null;
  status: TaskStatus;
  priority: number;
  due_date: string | null;
  created_at: string;
  updated_at: string;
}

/** A task as lists show it: with its assignee's and project's names. */
export interface TaskSummary extends Task {
  assignee_name: string | null;
  project_name: string;
}

/** Backups kept per tenant (older ones are deleted after each new one). */
export const BACKUPS_KEPT = 7;
/** Tasks done longer ago than this move to `<tenant>/archive/tasks/` (daily, 03:30 UTC). */
export const ARCHIVE_DONE_AFTER = "90d";
/** Archived tasks done longer ago than this are deleted from R2 (retention, after each archive run). */
export const ARCHIVE_KEPT_FOR = "730d";
/** The tasks archive: by `done_at` (epoch ms, NULL while not done), one folder per month done. */
const TASK_ARCHIVE = {
  table: "tasks",
  timeColumn: "done_at",
  partition: "month",
  olderThan: ARCHIVE_DONE_AFTER,
  keepFor: ARCHIVE_KEPT_FOR,
} as const;

const USER = "SELECT id, email, name, role, created_at, updated_at FROM users WHERE id = ?";
const PROJECT =
  "SELECT id, name, description, owner_id, status, created_at, updated_at FROM projects WHERE id = ?";
const TASK = `SELECT id, project_id, title, description, assignee_id, status, priority, due_date, created_at,
  updated_at FROM tasks WHERE id = ?`;
/** `task_count`: the project's tasks, hot and archived (archiving moves tasks to R2, they still exist). */
const PROJECTS = `SELECT p.id, p.name, p.description, p.owner_id, p.status, p.created_at, p.updated_at,
  u.name AS owner_name, (SELECT count(*) FROM tasks t WHERE t.project_id = p.id)
  + (SELECT coalesce(sum(a.tasks), 0) FROM archived_task_counts a WHERE a.project_id = p.id) AS task_count
  FROM projects p JOIN users u ON u.id = p.owner_id
  WHERE p.status = ? ORDER BY p.updated_at DESC, p.id DESC`;
const TASKS = `SELECT t.id, t.project_id, t.title, t.description, t.assignee_id, t.status, t.priority,
  t.due_date, t.created_at, t.updated_at, u.name AS assignee_name, p.name AS project_name
  FROM tasks t JOIN projects p ON p.id = t.project_id LEFT JOIN users u ON u.id = t.assignee_id`;
/**
 * Highest priority first; then the soonest due date, undated last; then oldest first. Due dates
 * compare as instants (`unixepoch(…, 'subsec')`: a date is its UTC midnight, a date-time its offset
 * applied), not as text: `…T09:00:00.5Z` sorts before `…T09:00:00Z` as text, `…T23:00:00-05:00`
 * before the next day's `…T01:00:00Z`.
 */
const TASK_ORDER =
  "ORDER BY t.priority DESC, t.due_date IS NULL, unixepoch(t.due_date, 'subsec') ASC, t.due_date ASC, t.id ASC";

/**
 * The database of one tenant (the actor's name): its users, projects and tasks (Use Case 1).
 * One actor per tenant is the isolation: no query of one tenant can see another's rows. Every
 * method validates its input; references are checked inside the write's transaction, so a
 * missing project, owner or assignee is a typed 400 and SQLite's constraints are the backstop.
 * The first create of a tenant registers its name (src/coordinator/directory.ts), so lookups of
 * a tenant never written answer 404 without creating it.
 */
export class TenantDB extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "TenantDB";
  static override config: ActorConfig<typeof schema> = defineActor({
    schema,
    migrations,
    // The tenant's socket (`/tenants/:tenant/ws`): the coordinator lets in only a token of this
    // tenant (or the admin), so every method needs a user.
    rpc: rpc({
      methods: {
        listUsers: "user",
        getUser: "user",
        listProjects: "user",
        listTasks: "user",
        getTask: "user",
        createTask: "user",
        updateTask: "user",
        deleteTask: "user",
      },
    }),
    fleet: fleet("tenants"),
    // The tenant's data in R2 under its own name (Use Case 1): `<tenant>/backups/<id>/…` (a backup
    // every day at 03:00 UTC, the newest 7 kept) and `<tenant>/archive/tasks/<month>/…` (tasks done
    // over 90 days ago, every day at 03:30 UTC; deleted 730 days after they were done).
    tiering: tiering({
      keys: "actor-first",
      backup: { every: "0 3 * * *", keep: BACKUPS_KEPT },
      archive: [{ ...TASK_ARCHIVE, every: "30 3 * * *" }],
    }),
  });

  // ---- users ----

  async createUser(input: CreateUserInput): Promise<User> {
    const { email, name, role } = parseInput(createUserInput, input);
    await this.#register();
    return this.#write(() => {
      if (this.#emailOwner(email) !== undefined) throw emailTaken(email);
      const at = now();
      const [user] = this.database.query<User>(
        `INSERT INTO users (email, name, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         RETURNING id, email, name, role, created_at, updated_at`,
        [email, name, role ?? "member", at, at],
      );
      return user;
    });
  }

  listUsers(): { users: User[] } {
    const users = this.database.query<User>(
      "SELECT id, email, name, role, created_at, updated_at FROM users ORDER BY name, id",
    );
    return { users };
  }

  getUser(input: IdInput): User {
    const { id } = parseInput(idInput, input);
    return this.#user(id);
  }

  updateUser(input: UpdateUserInput): User {
    const { id, ...fields } = parseInput(updateUserInput, input);
    return this.#write(() => {
      this.#user(id);
      if (fields.email !== undefined) {
        const owner = this.#emailOwner(fields.email);
        if (owner !== undefined && owner !== id) throw emailTaken(fields.email);
      }
      this.#update("users", id, fields);
      return this.#user(id);
    });
  }

  // ---- projects ----

  async createProject(input: CreateProjectInput): Promise<Project> {
    const { name, description, owner_id } = parseInput(createProjectInput, input);
    await this.#register();
    return this.#write(() => {
      if (!this.#exists("users", owner_id)) throw unknownReference("owner_id", owner_id);
      const at = now();
      const [project] = this.database.query<Project>(
        `INSERT INTO projects (name, description, owner_id, status, created_at, updated_at)
         VALUES (?, ?, ?, 'active', ?, ?) RETURNING id, name, description, owner_id, status, created_at, updated_at`,
        [name, description ?? null, owner_id, at, at],
      );
      return project;
    });
  }

  /**
   * Projects of one status (default active), most recently updated first, with owner name and
   * task count (archived tasks included).
   */
  async listProjects(input: ListProjectsInput = {}): Promise<{ projects: ProjectSummary[] }> {
    const { status } = parseInput(listProjectsInput, input ?? {});
    await this.#countArchive();
    return { projects: this.database.query<ProjectSummary>(PROJECTS, [status ?? "active"]) };
  }

  getProject(input: IdInput): Project {
    const { id } = parseInput(idInput, input);
    return this.#project(id);
  }

  updateProject(input: UpdateProjectInput): Project {
    const { id, ...fields } = parseInput(updateProjectInput, input);
    return this.#write(() => {
      this.#project(id);
      this.#update("projects", id, fields);
      return this.#project(id);
    });
  }

  archiveProject(input: IdInput): Project {
    const { id } = parseInput(idInput, input);
    return this.updateProject({ id, status: "archived" });
  }

  /** Delete a project and (ON DELETE CASCADE) every task of it. */
  deleteProject(input: IdInput): { deleted: true; id: number; tasks: number } {
    const { id } = parseInput(idInput, input);
    return this.#write(() => {
      this.#project(id);
      const [{ n }] = this.database.query<{ n: number }>(
        "SELECT count(*) AS n FROM tasks WHERE project_id = ?",
        [id],
      );
      this.database.query("DELETE FROM projects WHERE id = ?", [id]);
      return { deleted: true as const, id, tasks: n };
    });
  }

  // ---- tasks ----

  async createTask(input: CreateTaskInput): Promise<Task> {
    const task = parseInput(createTaskInput, input);
    await this.#register();
    return this.#write(() => {
      if (!this.#exists("projects", task.project_id)) throw unknownReference("project_id", task.project_id);
      const assignee = task.assignee_id ?? null;
      if (assignee !== null && !this.#exists("users", assignee))
        throw unknownReference("assignee_id", assignee);
      const at = now();
      const status = task.status ?? "todo";
      const [created] = this.database.query<Task>(
        `INSERT INTO tasks (project_id, title, description, assignee_id, status, priority, due_date, created_at,
         updated_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, project_id, title, description,
         assignee_id, status, priority, due_date, created_at, updated_at`,
        [
          task.project_id,
          task.title,
          task.description ?? null,
          assignee,
          status,
          task.priority ?? 0,
          task.due_date ?? null,
          at,
          at,
          status === "done" ? Date.parse(at) : null,
        ],
      );
      return created;
    });
  }

  /**
   * Tasks, filtered by project, status and assignee; highest priority first, then soonest due.
   * `include_archived`: the tasks archived to R2 too (tiering's union of the hot table and its
   * archive; archived tasks of a project deleted since are not listed: the join needs the project).
   */
  async listTasks(input: ListTasksInput = {}): Promise<{ tasks: TaskSummary[] }> {
    const { include_archived, ...filters } = parseInput(listTasksInput, input ?? {});
    const where: string[] = [];
    const params: unknown[] = [];
    if (filters.project_id !== undefined) {
      where.push("t.project_id = ?");
      params.push(filters.project_id);
    }
    if (filters.status !== undefined) {
      where.push("t.status = ?");
      params.push(filters.status);
    }
    if (filters.assignee_id !== undefined) {
      where.push("t.assignee_id = ?");
      params.push(filters.assignee_id);
    }
    const sql = `${TASKS} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ${TASK_ORDER}`;
    if (include_archived) return { tasks: await this.tiering.unionQuery<TaskSummary>("tasks", sql, params) };
    return { tasks: this.database.query<TaskSummary>(sql, params) };
  }

  getTask(input: IdInput): Task {
    const { id } = parseInput(idInput, input);
    return this.#task(id);
  }

  /** Change the fields given (status, assignee, priority, …); `updated_at` is always set. */
  updateTask(input: UpdateTaskInput): Task {
    const { id, ...fields } = parseInput(updateTaskInput, input);
    return this.#write(() => {
      this.#task(id);
      const assignee = fields.assignee_id;
      if (assignee !== undefined && assignee !== null && !this.#exists("users", assignee))
        throw unknownReference("assignee_id", assignee);
      this.#update("tasks", id, fields);
      return this.#task(id);
    });
  }

  deleteTask(input: IdInput): { deleted: true; id: number } {
    const { id } = parseInput(idInput, input);
    return this.#write(() => {
      this.#task(id);
      this.database.query("DELETE FROM tasks WHERE id = ?", [id]);
      return { deleted: true as const, id };
    });
  }

  // ---- archive (R2, under the tenant's own prefix) ----

  /**
   * Archive now what the daily run archives: tasks done longer ago than `older_than` (default 90d)
   * move to `<tenant>/archive/tasks/<month>/…parquet` and leave the table; then archived tasks done
   * longer ago than `keep_for` (default 730d) are deleted from R2. An admin method.
   */
  archiveTasks(input: ArchiveTasksInput = {}): Promise<ArchiveResult> {
    const { older_than, keep_for } = parseInput(archiveTasksInput, input ?? {});
    return this.tiering.archive({
      ...TASK_ARCHIVE,
      olderThan: older_than ?? ARCHIVE_DONE_AFTER,
      keepFor: keep_for ?? ARCHIVE_KEPT_FOR,
    });
  }

  /** The tenant's archived files (key, month, done-time range, rows, bytes), oldest first. */
  listArchive(): { files: ManifestEntry[] } {
    return { files: this.tiering.manifest("tasks") };
  }

  // ---- backups (R2, under the tenant's own prefix) ----

  /** Snapshot the tenant's database to `<tenant>/backups/<id>/` now (the schedule does it daily). */
  backup(): Promise<BackupResult> {
    return this.tiering.backup({ keep: BACKUPS_KEPT });
  }

  listBackups(): { backups: ReturnType<TenantDB["tiering"]["backups"]> } {
    return { backups: this.tiering.backups() };
  }

  /**
   * Replace the tenant's data with one of its own backups (an admin method: the routes allow it to
   * the admin token only). A key outside `<tenant>/backups/` is refused: a tenant is never
   * restored from another tenant's data.
   */
  restoreBackup(input: RestoreInput): Promise<RestoreResult> {
    const { key } = parseInput(restoreInput, input);
    if (!key.startsWith(`${this.name}/backups/`) || !key.endsWith("/backup.json"))
      throw new ActorError(
        "VALIDATION_FAILED",
        `key: must be one of this tenant's backups (${this.name}/backups/…/backup.json)`,
      );
    return this.tiering.restoreFromBackup(key);
  }

  // ---- helpers ----

  /**
   * Bring `archived_task_counts` up to the archive's manifest: a file archived since is read once
   * (its tasks per project), the rows of files retention deleted go. A restore brings back the
   * counts of the backup's time together with its manifest, so they stay in step.
   */
  async #countArchive(): Promise<void> {
    const files = this.tiering.manifest("tasks");
    const counted = new Set(
      this.database
        .query<{ file_key: string }>("SELECT DISTINCT file_key FROM archived_task_counts")
        .map((r) => r.file_key),
    );
    const listed = new Set(files.map((f) => f.key));
    for (const key of counted)
      if (!listed.has(key)) this.database.query("DELETE FROM archived_task_counts WHERE file_key = ?", [key]);
    for (const file of files) {
      if (counted.has(file.key)) continue;
      // A source reference (not a value, so not a parameter): the manifest's own key, quoted.
      const source = `'r2://${file.bucket}/${file.key.replaceAll("'", "''")}'`;
      const perProject = await this.tiering.query<{ project_id: number; n: number }>(
        `SELECT project_id, count(*) AS n FROM ${source} GROUP BY project_id`,
      );
      this.transaction(() => {
        for (const { project_id, n } of perProject)
          this.database.query(
            `INSERT INTO archived_task_counts (file_key, project_id, tasks) VALUES (?, ?, ?)
             ON CONFLICT (file_key, project_id) DO UPDATE SET tasks = excluded.tasks`,
            [file.key, project_id, n],
          );
      });
    }
  }

  /** Record the tenant's name before its first write (idempotent; cached per isolate). */
  async #register(): Promise<void> {
    await registerName(this.env, "tenants", this.name);
  }

  /** A transaction whose constraint failures come back typed (400/409), never as a 500. */
  #write<T>(fn: () => T extends PromiseLike<unknown> ? never : T): T {
    try {
      return this.transaction(fn);
    } catch (err) {
      if (ActorError.from(err)) throw err;
      throw constraintError(err) ?? err;
    }
  }

  /**
   * `UPDATE table SET <given columns>, updated_at = ? WHERE id = ?`: column names come from the
   * schema-checked input (only its keys), values are bound. A task's status also keeps `done_at`:
   * set when it becomes done (kept while it stays done), NULL when it leaves done.
   */
  #update(table: "users" | "projects" | "tasks", id: number, fields: Record<string, unknown>): void {
    const ms = Date.now();
    let sets = "";
    const values: unknown[] = [];
    for (const column in fields) {
      const value = fields[column];
      if (value === undefined) continue;
      sets += `${column} = ?, `;
      values.push(value);
    }
    if (table === "tasks" && fields.status !== undefined) {
      sets += "done_at = CASE WHEN ? = 'done' THEN coalesce(done_at, ?) ELSE NULL END, ";
      values.push(fields.status, ms);
    }
    values.push(new Date(ms).toISOString(), id);
    this.database.query(`UPDATE ${table} SET ${sets}updated_at = ? WHERE id = ?`, values);
  }

  #exists(table: "users" | "projects", id: number): boolean {
    return this.database.query(`SELECT 1 FROM ${table} WHERE id = ?`, [id]).length > 0;
  }

  #emailOwner(email: string): number | undefined {
    return this.database.query<{ id: number }>("SELECT id FROM users WHERE email = ?", [email])[0]?.id;
  }

  #user(id: number): User {
    const [row] = this.database.query<User>(USER, [id]);
    if (!row) throw notFound("user", id);
    return row;
  }

  #project(id: number): Project {
    const [row] = this.database.query<Project>(PROJECT, [id]);
    if (!row) throw notFound("project", id);
    return row;
  }

  #task(id: number): Task {
    const [row] = this.database.query<Task>(TASK, [id]);
    if (!row) throw notFound("task", id);
    return row;
  }
}

function now(): string {
  return new Date().toISOString();
}
