export { allow, callerOf, customerOf, routesWithoutRole } from "./access";
export { createCoordinator, MAX_BODY_BYTES, type Mount } from "./app";
export {
  type AuthEnv,
  type AuthScope,
  allows,
  authenticate,
  bearerToken,
  type Caller,
  type Role,
} from "./auth";
export {
  Directory,
  type DirectoryEnv,
  type DirectoryKind,
  isKnown,
  knownNames,
  registerName,
} from "./directory";
export { type ErrorBody, toErrorResponse } from "./errors";
export { rateLimit } from "./rate-limit";
export { actorStub } from "./stub";
export { type TenancyOptions, type TenantSource, tenantOf } from "./tenancy";
export { actorName, NAME_PATTERN, parseInput, readJson } from "./validate";
