import { ActorError } from "../../src/errors";

/** A forwarded change that is not a region rollup: the whole batch is refused (nothing applied). */
export function unexpectedChange(table: string, message: string): ActorError {
  return new ActorError("VALIDATION_FAILED", `rollup batch: ${table}: ${message}`, { table });
}
