import { ActorError } from "../../src/errors";

// The framework's defaults cover *_NOT_FOUND (404) and *_EXISTS (409).
ActorError.defineStatus("INVALID_MOVE", 409);
ActorError.defineStatus("MERGE_CONFLICT", 409);
ActorError.defineStatus("READ_ONLY", 403);
ActorError.defineStatus("STALE_EDIT", 409);

export function documentNotFound(doc: string): ActorError {
  return new ActorError("DOCUMENT_NOT_FOUND", `document ${doc} does not exist`, { document: doc });
}

export function blockNotFound(blockId: string): ActorError {
  return new ActorError("BLOCK_NOT_FOUND", `block ${blockId} does not exist`, { blockId });
}

export function parentNotFound(parentId: string): ActorError {
  return new ActorError("PARENT_NOT_FOUND", `parent block ${parentId} does not exist`, { parentId });
}

export function blockExists(blockId: string): ActorError {
  return new ActorError("BLOCK_EXISTS", `block ${blockId} already exists`, { blockId });
}

export function invalidMove(blockId: string, parentId: string): ActorError {
  return new ActorError(
    "INVALID_MOVE",
    `block ${blockId} cannot move under itself or its descendant ${parentId}`,
    {
      blockId,
      parentId,
    },
  );
}

/** An edit made on a copy of the block older than someone else's change to it. */
export function staleEdit(
  blockId: string,
  baseLsn: number,
  clash: { id: number; user_id: string; kind: string },
): ActorError {
  return new ActorError(
    "STALE_EDIT",
    `block ${blockId} was changed by ${clash.user_id} (${clash.kind} ${clash.id}) after LSN ${baseLsn}`,
    { blockId, baseLsn, conflictingOperationId: clash.id, conflictingUserId: clash.user_id },
  );
}

/** An edit made on a copy older than the operation log kept: whether the block changed since is unknown. */
export function staleBase(blockId: string, baseLsn: number, floorLsn: number): ActorError {
  return new ActorError(
    "STALE_EDIT",
    `block ${blockId}: LSN ${baseLsn} is older than the operation log kept (from LSN ${floorLsn}); sync and edit again`,
    { blockId, baseLsn, floorLsn, conflictingOperationId: null, conflictingUserId: null },
  );
}

/** The caller's role on this document does not allow the action. */
export function notAllowed(userId: string, role: string, needs: string): ActorError {
  return new ActorError(
    role === "viewer" ? "READ_ONLY" : "FORBIDDEN",
    `${userId} is ${role === "admin" ? "an" : "a"} ${role} of this document; this needs ${needs}`,
    { userId, role, needs },
  );
}
