import { ActorError } from "../../src/errors";

// VALIDATION_FAILED (400) is the framework's; the region codes end in _NOT_FOUND (404).

/** A batch with bad events: every bad one by index, and nothing of the batch written. */
export function invalidEvents(errors: EventError[], total: number): ActorError {
  const first = errors[0];
  return new ActorError(
    "VALIDATION_FAILED",
    `${errors.length} of ${total} events are invalid (nothing was written); first: events[${first.index}].${first.path}: ${first.message}`,
    { errors: errors.slice(0, 100) as unknown as string[], invalid: errors.length },
  );
}

export interface EventError {
  index: number;
  path: string;
  message: string;
}

export function regionNotFound(region: string): ActorError {
  return new ActorError(
    "REGION_NOT_FOUND",
    `unknown region ${JSON.stringify(region)}: use us, eu, apac or auto`,
    { region, regions: ["us", "eu", "apac", "auto"] },
  );
}

export function regionEmpty(region: string): ActorError {
  return new ActorError("REGION_NOT_FOUND", `region ${region} has received no events yet`, { region });
}
