import { ActorError } from "../../src/errors";

// Business conflicts answer 409; the framework's defaults cover *_NOT_FOUND (404),
// *_EXISTS and INVALID_STATUS_* (409).
ActorError.defineStatus("INSUFFICIENT_STOCK", 409);
// The reservation is an order's: only that order (its key) or an admin may confirm or release it.
ActorError.defineStatus("RESERVATION_OWNED", 403);

export function skuNotFound(sku: string): ActorError {
  return new ActorError("SKU_NOT_FOUND", `SKU ${sku} has never been stocked`, { sku });
}

export function insufficientStock(sku: string, available: number, requested: number): ActorError {
  return new ActorError("INSUFFICIENT_STOCK", `SKU ${sku}: ${requested} requested, ${available} available`, {
    sku,
    available,
    requested,
  });
}

export function reservationNotFound(orderId: string): ActorError {
  return new ActorError("RESERVATION_NOT_FOUND", `no reservation for order ${orderId}`, { orderId });
}

export function invalidStatus(orderId: string, status: string): ActorError {
  return new ActorError(`INVALID_STATUS_${status}`, `reservation ${orderId} is ${status}, not PENDING`, {
    orderId,
    status,
  });
}

export function reservationExists(orderId: string, status: string, quantity: number): ActorError {
  return new ActorError(
    "RESERVATION_EXISTS",
    `order ${orderId} already has a ${status} reservation of ${quantity}`,
    { orderId, status, quantity },
  );
}

export function notTheOwner(orderId: string): ActorError {
  return new ActorError(
    "RESERVATION_OWNED",
    `the reservation of order ${orderId} belongs to that order: confirm or release it through the order`,
    { orderId },
  );
}
