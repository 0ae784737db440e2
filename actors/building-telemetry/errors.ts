import { ActorError } from "../../src/errors";

// *_NOT_FOUND answer 404 and INVALID_STATUS_* 409 by the framework's defaults.

export function buildingNotFound(building: string): ActorError {
  return new ActorError("BUILDING_NOT_FOUND", `building ${building} has never sent a reading or a rule`, {
    building,
  });
}

export function ruleNotFound(id: number): ActorError {
  return new ActorError("RULE_NOT_FOUND", `no alert rule ${id}`, { id });
}

export function alertNotFound(id: number): ActorError {
  return new ActorError("ALERT_NOT_FOUND", `no alert ${id}`, { id });
}

export function alertNotActive(id: number, status: string): ActorError {
  return new ActorError(`INVALID_STATUS_${status}`, `alert ${id} is ${status}, not ACTIVE`, { id, status });
}

/** A reading of a batch that failed validation: the whole batch is refused, nothing is written. */
export function badReading(index: number, path: string, message: string): ActorError {
  const where = path ? `readings[${index}].${path}` : `readings[${index}]`;
  return new ActorError("VALIDATION_FAILED", `${where}: ${message}`, { index, path, message });
}
