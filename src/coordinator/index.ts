export { createCoordinator, MAX_BODY_BYTES, type Mount } from "./app";
export { type ErrorBody, toErrorResponse } from "./errors";
export { actorStub } from "./stub";
export { actorName, NAME_PATTERN, parseInput, readJson } from "./validate";
