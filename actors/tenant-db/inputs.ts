import * as z from "zod/mini";
import { parseDuration } from "../../src/duration";
import { isoDate, isoDateTime } from "../../src/iso-input";
import { PROJECT_STATUSES, TASK_STATUSES, USER_ROLES } from "./schema";

/** Record ids are SQLite rowids: positive safe integers. */
export const recordId = z.int().check(z.gte(1), z.lte(Number.MAX_SAFE_INTEGER));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const nullableText = (max: number) => z.nullable(z.string().check(z.maxLength(max)));
const email = z.email().check(z.maxLength(254));
/** A due date: an ISO-8601 date (2026-12-01) or date-time with offset. */
const dueDate = z.nullable(z.union([isoDate(), isoDateTime()]));
export const MAX_PRIORITY = 1_000_000;
const priority = z.int().check(z.gte(-MAX_PRIORITY), z.lte(MAX_PRIORITY));
export const MAX_NAME = 200;
export const MAX_DESCRIPTION = 10_000;

export const createUserInput = z.object({
  email,
  name: text(MAX_NAME),
  role: z.optional(z.enum(USER_ROLES)),
});
export type CreateUserInput = z.input<typeof createUserInput>;

export const idInput = z.object({ id: recordId });
export type IdInput = z.input<typeof idInput>;

export const updateUserInput = z.object({
  id: recordId,
  email: z.optional(email),
  name: z.optional(text(MAX_NAME)),
  role: z.optional(z.enum(USER_ROLES)),
});
export type UpdateUserInput = z.input<typeof updateUserInput>;

export const createProjectInput = z.object({
  name: text(MAX_NAME),
  description: z.optional(nullableText(MAX_DESCRIPTION)),
  owner_id: recordId,
});
export type CreateProjectInput = z.input<typeof createProjectInput>;

/** `status` defaults to active, as in the use case's query. */
export const listProjectsInput = z.object({ status: z.optional(z.enum(PROJECT_STATUSES)) });
export type ListProjectsInput = z.input<typeof listProjectsInput>;

export const updateProjectInput = z.object({
  id: recordId,
  name: z.optional(text(MAX_NAME)),
  description: z.optional(nullableText(MAX_DESCRIPTION)),
  status: z.optional(z.enum(PROJECT_STATUSES)),
});
export type UpdateProjectInput = z.input<typeof updateProjectInput>;

export const createTaskInput = z.object({
  project_id: recordId,
  title: text(MAX_NAME),
  description: z.optional(nullableText(MAX_DESCRIPTION)),
  assignee_id: z.optional(z.nullable(recordId)),
  status: z.optional(z.enum(TASK_STATUSES)),
  priority: z.optional(priority),
  due_date: z.optional(dueDate),
});
export type CreateTaskInput = z.input<typeof createTaskInput>;

export const listTasksInput = z.object({
  project_id: z.optional(recordId),
  status: z.optional(z.enum(TASK_STATUSES)),
  assignee_id: z.optional(recordId),
  /** Also the tasks archived to R2 (`<tenant>/archive/tasks/`), read back through tiering. */
  include_archived: z.optional(z.boolean()),
});
export type ListTasksInput = z.input<typeof listTasksInput>;

/** PATCH `{ id, … }`: the fields given change, `updated_at` always. `assignee_id: null` unassigns. */
export const updateTaskInput = z.object({
  id: recordId,
  title: z.optional(text(MAX_NAME)),
  description: z.optional(nullableText(MAX_DESCRIPTION)),
  status: z.optional(z.enum(TASK_STATUSES)),
  assignee_id: z.optional(z.nullable(recordId)),
  priority: z.optional(priority),
  due_date: z.optional(dueDate),
});
export type UpdateTaskInput = z.input<typeof updateTaskInput>;

/** A backup's `backup.json` key, as `listBackups` or `backup` answers it. */
export const restoreInput = z.object({ key: z.string().check(z.minLength(1), z.maxLength(1024)) });
export type RestoreInput = z.input<typeof restoreInput>;

/** An age such as "90d", "12h" or "1500ms" (src/duration.ts). */
const age = z.string().check(
  z.maxLength(32),
  z.refine((s) => parseDuration(s) !== undefined, 'must be an age like "90d", "12h" or "30m"'),
);

/** Archive now: tasks done longer ago than `older_than`; then delete archived ones done before `keep_for`. */
export const archiveTasksInput = z.object({ older_than: z.optional(age), keep_for: z.optional(age) });
export type ArchiveTasksInput = z.input<typeof archiveTasksInput>;
