import { ActorError } from "../../src/errors";

// Business conflicts answer 409 (ORDER_EXISTS, PAYMENT_EXISTS and ORDER_NOT_FOUND follow the defaults).
ActorError.defineStatus("CHECKOUT_FAILED", 409);
ActorError.defineStatus("INVALID_TRANSITION", 409);
ActorError.defineStatus("PAYMENT_AMOUNT_MISMATCH", 409);
// A payment reached an order that cannot be paid by it (cancelled, refunded, already paid): it is
// recorded as REFUND_DUE and the caller must refund it.
ActorError.defineStatus("PAYMENT_REFUND_DUE", 409);
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

export function paymentRefundDue(
  orderId: string,
  orderStatus: string,
  payment: { id: string; provider: string; providerId: string | null; amount: number },
): ActorError {
  return new ActorError(
    "PAYMENT_REFUND_DUE",
    `order ${orderId} is ${orderStatus}: payment ${payment.id} was recorded as REFUND_DUE; refund it`,
    {
      orderId,
      orderStatus,
      paymentId: payment.id,
      provider: payment.provider,
      providerId: payment.providerId,
      amount: payment.amount,
    },
  );
}
