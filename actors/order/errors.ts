import { ActorError } from "../../src/errors";
import type { RefundReason } from "./schema";

// Business conflicts answer 409 (ORDER_EXISTS, PAYMENT_EXISTS and ORDER_NOT_FOUND follow the defaults).
ActorError.defineStatus("CHECKOUT_FAILED", 409);
ActorError.defineStatus("INVALID_TRANSITION", 409);
ActorError.defineStatus("PAYMENT_AMOUNT_MISMATCH", 409);
// A payment reached an order that cannot be paid by it (cancelled, refunded, already paid), or
// (PAYMENT_AMOUNT_MISMATCH) its amount is not the total: it is recorded as REFUND_DUE, to refund.
ActorError.defineStatus("PAYMENT_REFUND_DUE", 409);
// markRefunded on a payment that is not owed back (the one that paid the order is refunded with the order).
ActorError.defineStatus("PAYMENT_NOT_REFUND_DUE", 409);
// A SKU could not be reached to give stock back: nothing changed, the caller may retry.
ActorError.defineStatus("RELEASE_FAILED", 503);
// A SKU says the stock was already sold (confirmed there, by an admin): cancelling cannot give it back.
ActorError.defineStatus("RESERVATION_CONFIRMED", 409);

export function orderNotFound(orderId: string): ActorError {
  return new ActorError("ORDER_NOT_FOUND", `no order ${orderId}`, { orderId });
}

export function invalidTransition(from: string, to: string, why?: string): ActorError {
  return new ActorError("INVALID_TRANSITION", why ?? `an order cannot go from ${from} to ${to}`, {
    from,
    to,
  });
}

export function reservationConfirmed(orderId: string, skus: string[]): ActorError {
  return new ActorError(
    "RESERVATION_CONFIRMED",
    `the stock of ${skus.join(", ")} was already confirmed (sold) for order ${orderId}: refund it instead of cancelling`,
    { orderId, skus },
  );
}

export function paymentNotFound(orderId: string, paymentId: string): ActorError {
  return new ActorError("PAYMENT_NOT_FOUND", `order ${orderId} has no payment ${paymentId}`, {
    orderId,
    paymentId,
  });
}

export function paymentNotRefundDue(orderId: string, paymentId: string, status: string): ActorError {
  return new ActorError(
    "PAYMENT_NOT_REFUND_DUE",
    status === "SUCCEEDED"
      ? `payment ${paymentId} paid order ${orderId}: refund it with the order (status REFUNDED)`
      : `payment ${paymentId} is ${status}, not REFUND_DUE`,
    { orderId, paymentId, status },
  );
}

/** A payment recorded as owed back (REFUND_DUE, or REFUNDED since), as `markPaid` kept it. */
export interface OwedPayment {
  id: string;
  provider: string;
  providerId: string | null;
  amount: number;
  status: string;
  refundReason: RefundReason;
}

/**
 * The answer to a payment the order did not take, the same every time it is reported again:
 * PAYMENT_AMOUNT_MISMATCH when its amount was not the total, PAYMENT_REFUND_DUE when the order
 * could not be paid by it. Both say where the money stands (`paymentStatus`).
 */
export function paymentNotTaken(
  orderId: string,
  order: { status: string; total: number },
  payment: OwedPayment,
): ActorError {
  const details = {
    orderId,
    orderStatus: order.status,
    paymentId: payment.id,
    provider: payment.provider,
    providerId: payment.providerId,
    amount: payment.amount,
    paymentStatus: payment.status,
  };
  const owed = payment.status === "REFUND_DUE" ? "was recorded as REFUND_DUE; refund it" : "was refunded";
  if (payment.refundReason === "AMOUNT_MISMATCH")
    return new ActorError(
      "PAYMENT_AMOUNT_MISMATCH",
      `payment ${payment.id} of ${payment.amount} does not match the total ${order.total} of order ${orderId}: it ${owed}`,
      { ...details, total: order.total },
    );
  return new ActorError(
    "PAYMENT_REFUND_DUE",
    `order ${orderId} is ${order.status}: payment ${payment.id} ${owed}`,
    details,
  );
}
