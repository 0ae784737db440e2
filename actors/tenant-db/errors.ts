import { ActorError } from "../../src/errors";

// A taken email is a business conflict (409); a reference to a record that does not exist
// (a task's project or assignee, a project's owner) is bad input (400), not a missing route.
// USER_NOT_FOUND, PROJECT_NOT_FOUND, TASK_NOT_FOUND and TENANT_NOT_FOUND follow the default (404).
ActorError.defineStatus("EMAIL_TAKEN", 409);
ActorError.defineStatus("UNKNOWN_REFERENCE", 400);
ActorError.defineStatus("CONSTRAINT_FAILED", 400);

export function tenantNotFound(tenant: string): ActorError {
  return new ActorError("TENANT_NOT_FOUND", `no tenant ${tenant}`, { tenant });
}

export function emailTaken(email: string): ActorError {
  return new ActorError("EMAIL_TAKEN", `a user with email ${email} already exists`, { email });
}

export function notFound(kind: "user" | "project" | "task", id: number): ActorError {
  return new ActorError(`${kind.toUpperCase()}_NOT_FOUND`, `no ${kind} ${id}`, { id });
}

/** A field names a record that does not exist (`project_id`, `assignee_id`, `owner_id`). */
export function unknownReference(field: string, id: number): ActorError {
  return new ActorError("UNKNOWN_REFERENCE", `${field}: no record ${id}`, { field, id });
}

/**
 * What SQLite refused, as a typed error: the checks above run first, so this is the last line
 * (a race cannot happen inside one actor's transaction, but a schema a user changed could).
 */
export function constraintError(err: unknown): ActorError | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (/UNIQUE constraint failed: users\.email/i.test(message))
    return new ActorError("EMAIL_TAKEN", "a user with this email already exists");
  if (/FOREIGN KEY constraint failed/i.test(message))
    return new ActorError("UNKNOWN_REFERENCE", "a referenced record does not exist");
  if (/(CHECK|NOT NULL|UNIQUE) constraint failed/i.test(message))
    return new ActorError(
      "CONSTRAINT_FAILED",
      message.replace(/^.*?constraint failed/i, "constraint failed"),
    );
  return undefined;
}
