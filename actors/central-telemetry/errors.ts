import { ActorError } from "../../src/errors";

/** A forwarded change that is not an hourly rollup row: the whole batch is refused (nothing applied). */
export function badRollup(index: number, message: string): ActorError {
  return new ActorError("VALIDATION_FAILED", `changes[${index}]: ${message}`, { index });
}
