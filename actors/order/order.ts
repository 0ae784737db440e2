import { asc, eq } from "drizzle-orm";
import migrations from "../../migrations/order/migrations.js";
import { knownNames, registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { defineActor } from "../../src/define-actor";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { SqlActor } from "../../src/sql-actor";
import type { Details, InventorySKU } from "../inventory-sku/inventory-sku";
import {
  invalidTransition,
  orderNotFound,
  paymentNotFound,
  paymentNotRefundDue,
  paymentNotTaken,
  reservationConfirmed,
} from "./errors";
import {
  type Address,
  type CancelInput,
  type Checkout,
  type CheckoutInput,
  cancelInput,
  checkoutInput,
  type MarkPaidInput,
  type MarkRefundedInput,
  markPaidInput,
  markRefundedInput,
  type UpdateStatusInput,
  updateStatusInput,
} from "./inputs";
import * as schema from "./schema";
import {
  type LineReservationStatus,
  type OrderStatus,
  orderHeader,
  orderLines,
  payments,
  type RefundReason,
  statusLog,
} from "./schema";
import { canTransition } from "./transitions";

type Header = typeof orderHeader.$inferSelect;
type Line = typeof orderLines.$inferSelect;

export interface OrderView extends Omit<Header, "shippingAddress" | "billingAddress"> {
  shippingAddress: Address | null;
  billingAddress: Address | null;
  lines: Line[];
  statusLog: (Omit<typeof statusLog.$inferSelect, "details"> & { details: StatusDetails | null })[];
  payments: (typeof payments.$inferSelect)[];
}

export interface LineFailure {
  sku: string;
  code: string;
  message: string;
  details?: Details;
}

/** What a status log entry records beyond its reason: why a checkout failed, or a line could not be sold. */
export interface StatusDetails {
  failures?: LineFailure[];
  failure?: LineFailure;
}

/** Codes with which a SKU refuses a reservation: nothing was reserved, so nothing to release. */
const REFUSALS = new Set(["INSUFFICIENT_STOCK", "SKU_NOT_FOUND", "RESERVATION_EXISTS", "VALIDATION_FAILED"]);
/** Answers to release/confirm that mean the reservation is already in the wanted state or gone. */
const ALREADY_RELEASED = new Set([
  "INVALID_STATUS_RELEASED",
  "INVALID_STATUS_EXPIRED",
  "RESERVATION_NOT_FOUND",
]);
/**
 * Answers to confirm/release that are final, not transient: retrying would answer the same forever.
 * The reservation ended (INVALID_STATUS_*), never existed, or is another caller's: the SKU holds
 * it under a key that is not this order's (RESERVATION_OWNED).
 */
function isFinalAnswer(code: string): boolean {
  return (
    code.startsWith("INVALID_STATUS_") || code === "RESERVATION_NOT_FOUND" || code === "RESERVATION_OWNED"
  );
}
const RELEASE_TRIES = 3;
/** A checkout still PENDING this long after it started was interrupted: its schedule resumes it. */
export const CHECKOUT_DEADLINE_MS = 30_000;
/** The first retry of confirms left undone by `markPaid` (a SKU unreachable); the scheduler then backs off. */
export const CONFIRM_RETRY_MS = 1_000;
/**
 * Runs of that retry before it is dead-lettered: with the scheduler's backoff (1 s doubling, at
 * most 5 min) about an hour, past the longest reservation a SKU grants by default (60 minutes).
 */
export const CONFIRM_ATTEMPTS = 20;
/** Order statuses that hold a payment: their RESERVED lines are sold, not held. */
const PAID_STATUSES: ReadonlySet<OrderStatus> = new Set(["PAID", "PROCESSING", "SHIPPED", "DELIVERED"]);
/** Where the key that proves "this order" to its SKUs is kept (the order's own KV storage). */
const RESERVATION_KEY = "order:reservation-key";

/**
 * One order (the actor's name is the order id): header, lines, status log and payments.
 *
 * Checkout writes the order as PENDING first, then reserves every SKU in parallel; when all
 * succeed the order is RESERVED, otherwise every reservation made is released again and the
 * order ends CANCELLED with the per-SKU reasons. Because reserve is idempotent per order id, a
 * checkout interrupted by eviction or a crash resumes safely: when it is called again, or by its
 * own schedule (`resolveCheckout`, set with the PENDING write). A RESERVED order follows its
 * reservations: when the first one expires unpaid, `followReservations` cancels it and says why.
 * Mutations of one order run one at a time (they await other actors, which would otherwise let
 * them interleave). Each order holds a random key that it gives its SKUs with every reserve,
 * confirm and release: a SKU refuses to confirm or release the reservation without it (or an
 * admin), so the SKUs and the order cannot disagree.
 */
export class Order extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "Order";
  static override config = defineActor({ schema, migrations, fleet: fleet("orders") });
  #tail: Promise<unknown> = Promise.resolve();

  /** Create the order and reserve its stock. Idempotent per order id: a repeat answers the same. */
  checkout(input: CheckoutInput): Promise<{ order: OrderView; replayed: boolean }> {
    const request = parseInput(checkoutInput, input);
    if (request.orderId !== this.name)
      throw new ActorError("VALIDATION_FAILED", `orderId: must be this order's id (${this.name})`);
    return this.#serial(async () => {
      const header = this.#header();
      if (header) {
        this.#assertSameRequest(header, request);
        if (header.status === "PENDING") return { order: await this.#reserveAll(), replayed: true };
        const failure = this.#checkoutFailure();
        if (failure) throw failure;
        return { order: this.#view(), replayed: true };
      }
      // Known to the directory before its first write, so lookups find it (and only it).
      await registerName(this.env, "orders", this.name);
      this.#create(request);
      return { order: await this.#reserveAll(), replayed: false };
    });
  }

  /**
   * The order with its lines, status log and payments. With `customerId` (a customer asking),
   * another customer's order answers ORDER_NOT_FOUND, exactly like a missing one.
   */
  get(customerId?: string): { order: OrderView } {
    this.#owned(customerId);
    return { order: this.#view() };
  }

  /**
   * Cancel the order and give its stock back. With `customerId`, only that customer's order. A
   * PENDING order whose checkout was interrupted is cancelled too, releasing whatever it may hold.
   */
  cancel(input: CancelInput = {}, customerId?: string): Promise<{ order: OrderView }> {
    const { reason, actor } = parseInput(cancelInput, input ?? {});
    return this.#serial(async () => {
      const header = this.#owned(customerId);
      if (header.status === "CANCELLED") return { order: this.#view() };
      if (!canTransition(header.status, "CANCELLED")) throw invalidTransition(header.status, "CANCELLED");
      await this.#cancel(header.status, reason ?? "cancelled", customerId ?? actor ?? "system");
      return { order: this.#view() };
    });
  }

  /**
   * Scheduled with the PENDING write: a checkout still PENDING by then was interrupted (the
   * actor was evicted or the process died mid-checkout). Resume it: every line is reserved
   * (idempotently) and the order ends RESERVED, or it is cancelled with its reservations released.
   */
  resolveCheckout(): Promise<{ status: OrderStatus } | null> {
    return this.#serial(async () => {
      const header = this.#header();
      if (!header) return null;
      if (header.status === "PENDING") {
        try {
          await this.#reserveAll();
        } catch (err) {
          if (ActorError.from(err)?.code !== "CHECKOUT_FAILED") throw err;
        }
      }
      return { status: this.#header()!.status };
    });
  }

  /**
   * Scheduled at the first reservation's expiry when the order becomes RESERVED: an order still
   * waiting for payment by then can no longer be sold as it is, so it is cancelled, saying why.
   */
  followReservations(): Promise<{ status: OrderStatus } | null> {
    return this.#serial(async () => {
      const header = this.#header();
      if (!header) return null;
      if (header.status === "RESERVED" || header.status === "PAYMENT_PENDING")
        await this.#cancel(header.status, "reservation expired before payment", "system");
      return { status: this.#header()!.status };
    });
  }

  /**
   * Record a payment (no provider is called: the caller reports one that succeeded), move the
   * order to PAID and confirm every reservation. Lines whose reservation can no longer be
   * confirmed (it expired first) are reported in `unconfirmed` and logged, for a refund. A
   * payment the order cannot take (cancelled, refunded, already paid by another) is recorded as
   * REFUND_DUE and answered PAYMENT_REFUND_DUE; one whose amount is not the total is recorded as
   * REFUND_DUE too and answered PAYMENT_AMOUNT_MISMATCH (actors/order/README.md, "Decisions").
   */
  markPaid(input: MarkPaidInput): Promise<{ order: OrderView; unconfirmed: LineFailure[] }> {
    const payment = parseInput(markPaidInput, input);
    return this.#serial(async () => {
      const found = this.#header();
      if (!found) throw orderNotFound(this.name);
      let header: Header = found;
      const [existing] = this.db.select().from(payments).where(eq(payments.id, payment.paymentId)).all();
      const recorded = {
        id: payment.paymentId,
        provider: payment.provider,
        providerId: payment.providerId ?? null,
        amount: payment.amount,
      };
      if (existing) {
        if (
          existing.amount !== payment.amount ||
          existing.provider !== payment.provider ||
          existing.providerId !== (payment.providerId ?? null)
        )
          throw new ActorError(
            "PAYMENT_EXISTS",
            `payment ${payment.paymentId} was recorded with other figures`,
            {
              paymentId: payment.paymentId,
            },
          );
        // Answered the same every time (refunded since or not): nothing more is written.
        if (existing.refundReason)
          throw paymentNotTaken(this.name, header, { ...existing, refundReason: existing.refundReason });
      } else {
        // The money was taken but is not the order's total: owed back; the order stays as it is.
        if (payment.amount !== header.total) this.#owed(header, recorded, "AMOUNT_MISMATCH");
        // A checkout left PENDING (a crash) is finished first: the payment then finds it RESERVED or CANCELLED.
        if (header.status === "PENDING") {
          await this.#reserveAll().catch((err) => {
            if (ActorError.from(err)?.code !== "CHECKOUT_FAILED") throw err;
          });
          header = this.#header()!;
        }
        // This order cannot be paid by it (cancelled first, refunded, or already paid by another
        // payment): owed back too, never forgotten.
        if (!canTransition(header.status, "PAID")) this.#owed(header, recorded, "ORDER_NOT_PAYABLE");
        const at = new Date().toISOString();
        this.transaction(() => {
          this.db
            .insert(payments)
            .values({
              id: payment.paymentId,
              orderId: this.name,
              provider: payment.provider,
              providerId: payment.providerId ?? null,
              amount: payment.amount,
              status: "SUCCEEDED",
              createdAt: at,
              completedAt: at,
            })
            .run();
          this.#setStatus(
            header.status,
            "PAID",
            `payment ${payment.paymentId} via ${payment.provider}`,
            "system",
            at,
          );
          this.schedule.cancel("reservation-expiry");
          // With the payment, so a crash before the confirms below, or a confirm that fails
          // there, still ends with every line sold: the task retries until none is RESERVED.
          this.#scheduleConfirms();
        });
      }
      // A replay for an order refunded since sells nothing (its lines are settled for good).
      if (!PAID_STATUSES.has(this.#header()!.status)) return { order: this.#view(), unconfirmed: [] };
      const unconfirmed = await this.#confirmAll();
      this.#followConfirms();
      return { order: this.#view(), unconfirmed };
    });
  }

  /**
   * Say that a REFUND_DUE payment of this order was refunded (by the caller, with its provider):
   * it becomes REFUNDED, with a status log entry; the order's status does not change. Idempotent:
   * a payment already REFUNDED answers the order and writes nothing. Only this order's payments
   * are found (PAYMENT_NOT_FOUND otherwise); the payment that paid the order is refunded with the
   * order instead, `updateStatus({ status: "REFUNDED" })` (PAYMENT_NOT_REFUND_DUE).
   */
  markRefunded(input: MarkRefundedInput): Promise<{ order: OrderView }> {
    const { paymentId, reason, actor } = parseInput(markRefundedInput, input);
    return this.#serial(async () => {
      const header = this.#header();
      if (!header) throw orderNotFound(this.name);
      const [payment] = this.db.select().from(payments).where(eq(payments.id, paymentId)).all();
      if (!payment) throw paymentNotFound(this.name, paymentId);
      if (payment.status === "REFUNDED") return { order: this.#view() };
      if (payment.status !== "REFUND_DUE") throw paymentNotRefundDue(this.name, paymentId, payment.status);
      const at = new Date().toISOString();
      this.transaction(() => {
        this.db.update(payments).set({ status: "REFUNDED" }).where(eq(payments.id, paymentId)).run();
        const why = `payment ${paymentId} via ${payment.provider} refunded${reason ? `: ${reason}` : ""}`;
        this.#log(header.status, header.status, why, actor ?? "system", at);
      });
      return { order: this.#view() };
    });
  }

  /** Record a payment the order does not take as REFUND_DUE, with a log entry, and answer why. */
  #owed(
    header: Header,
    payment: { id: string; provider: string; providerId: string | null; amount: number },
    refundReason: RefundReason,
  ): never {
    const at = new Date().toISOString();
    const why =
      refundReason === "AMOUNT_MISMATCH"
        ? `of ${payment.amount} does not match the total ${header.total}`
        : `received while ${header.status}`;
    this.transaction(() => {
      this.db
        .insert(payments)
        .values({
          ...payment,
          orderId: this.name,
          status: "REFUND_DUE",
          refundReason,
          createdAt: at,
          completedAt: at,
        })
        .run();
      this.#log(
        header.status,
        header.status,
        `payment ${payment.id} via ${payment.provider} ${why}: refund due`,
        "system",
        at,
      );
    });
    throw paymentNotTaken(this.name, header, { ...payment, status: "REFUND_DUE", refundReason });
  }

  /**
   * Scheduled with the payment (key `confirm`): confirms the lines of a paid order still RESERVED
   * (a SKU was unreachable when `markPaid` confirmed, or the order stopped in between). Throws
   * while some remain, so the scheduler retries with backoff (`CONFIRM_ATTEMPTS` runs).
   */
  confirmPaid(): Promise<{ remaining: number } | null> {
    return this.#serial(async () => {
      const header = this.#header();
      if (!header || !PAID_STATUSES.has(header.status)) return null;
      if (!this.#lines().some((l) => l.reservationStatus === "RESERVED")) return { remaining: 0 };
      const unconfirmed = await this.#confirmAll();
      const remaining = this.#lines().filter((l) => l.reservationStatus === "RESERVED");
      if (remaining.length)
        throw new ActorError(
          "CONFIRM_PENDING",
          `${remaining.map((l) => l.sku).join(", ")} could not be confirmed yet; retrying`,
          { skus: remaining.map((l) => l.sku), codes: unconfirmed.map((f) => f.code) },
        );
      return { remaining: 0 };
    });
  }

  /**
   * Move the order along its state machine (see transitions.ts). CANCELLED releases the stock
   * still held; REFUNDED releases the stock of lines not yet sold and marks the payments
   * refunded. Repeating the current status is a no-op.
   */
  updateStatus(input: UpdateStatusInput): Promise<{ order: OrderView }> {
    const change = parseInput(updateStatusInput, input);
    return this.#serial(async () => {
      const header = this.#header();
      if (!header) throw orderNotFound(this.name);
      const from = header.status;
      const to = change.status;
      if (from === to) return { order: this.#view() };
      if (to === "PAID") throw invalidTransition(from, to, "an order becomes PAID through markPaid");
      if (!canTransition(from, to)) throw invalidTransition(from, to);
      if (to === "CANCELLED") {
        await this.#cancel(from, change.reason ?? "order cancelled", change.actor ?? "system");
        return { order: this.#view() };
      }
      if (from === "PENDING") throw invalidTransition(from, to, "the order's checkout is still in progress");
      if (to === "REFUNDED") {
        await this.#refund(from, change.reason ?? null, change.actor ?? "system");
        return { order: this.#view() };
      }
      const at = new Date().toISOString();
      this.transaction(() => this.#setStatus(from, to, change.reason ?? null, change.actor ?? "system", at));
      return { order: this.#view() };
    });
  }

  /** Reserve every line not yet reserved, in parallel; all or nothing. */
  async #reserveAll(): Promise<OrderView> {
    const lines = this.#lines().filter(
      (l) => l.reservationStatus === "PENDING" || l.reservationStatus === "RESERVED",
    );
    // SKUs never stocked are refused here: calling them would create their storage.
    const known = await knownNames(
      this.env,
      "inventory",
      lines.map((l) => l.sku),
    );
    const key = this.#key();
    const settled = await Promise.allSettled(
      lines.map((l) =>
        known.has(l.sku)
          ? this.#sku(l.sku).reserve({ orderId: this.name, quantity: l.quantity, key })
          : Promise.reject(skuNotFound(l.sku)),
      ),
    );
    const refused: LineFailure[] = [];
    const refusedIds = new Set<number>();
    settled.forEach((s, i) => {
      if (s.status === "fulfilled") return;
      const failure = lineFailure(lines[i].sku, s.reason);
      if (!REFUSALS.has(failure.code)) return; // an unknown outcome: released below to be sure
      refused.push(failure);
      refusedIds.add(lines[i].id);
    });
    const unknown = settled.filter((s) => s.status === "rejected").length - refused.length;
    if (refused.length === 0 && unknown === 0) {
      const at = new Date().toISOString();
      this.transaction(() => {
        settled.forEach((s, i) => {
          if (s.status !== "fulfilled") return;
          this.db
            .update(orderLines)
            .set({
              reservationStatus: "RESERVED",
              reservationId: s.value.reservationId,
              productName: s.value.productName,
            })
            .where(eq(orderLines.id, lines[i].id))
            .run();
        });
        this.#setStatus("PENDING", "RESERVED", "stock reserved", "system", at);
        this.schedule.cancel("checkout");
        const expiries = settled.flatMap((s) =>
          s.status === "fulfilled" ? [Date.parse(s.value.expiresAt)] : [],
        );
        if (expiries.length)
          this.schedule.at(new Date(Math.min(...expiries) + 1000), "followReservations", undefined, {
            key: "reservation-expiry",
          });
      });
      return this.#view();
    }
    // Compensation: give back whatever may have been reserved, then cancel with the reasons.
    const failures = [
      ...refused,
      ...settled.flatMap((s, i) =>
        s.status === "rejected" && !refusedIds.has(lines[i].id) ? [lineFailure(lines[i].sku, s.reason)] : [],
      ),
    ];
    const toRelease = lines.filter((l) => !refusedIds.has(l.id));
    const { released, foreign } = await this.#releaseAll(toRelease, "checkout failed");
    const at = new Date().toISOString();
    this.transaction(() => {
      for (const id of refusedIds) this.#setLine(id, "FAILED");
      this.#settleForeign("PENDING", foreign, at);
      for (const id of released) this.#setLine(id, "RELEASED");
      this.#setStatus(
        "PENDING",
        "CANCELLED",
        `checkout failed: ${failures.map((f) => `${f.sku} ${f.code}`).join(", ")}`,
        "system",
        at,
        { failures },
      );
      this.schedule.cancel("checkout");
    });
    throw checkoutFailed(this.name, failures);
  }

  #scheduleConfirms(): void {
    this.schedule.at(CONFIRM_RETRY_MS, "confirmPaid", undefined, {
      key: "confirm",
      maxAttempts: CONFIRM_ATTEMPTS,
    });
  }

  /** After `markPaid`'s confirms: drop the retry when every line is settled, keep (or set) it otherwise. */
  #followConfirms(): void {
    const header = this.#header();
    const pending = this.#lines().some((l) => l.reservationStatus === "RESERVED");
    if (!pending || !header || !PAID_STATUSES.has(header.status)) this.schedule.cancel("confirm");
    else if (this.schedule.get("confirm")?.status !== "scheduled") this.#scheduleConfirms();
  }

  /** Confirm every RESERVED line; returns the lines that could not be confirmed for good. */
  async #confirmAll(): Promise<LineFailure[]> {
    const all = this.#lines();
    const lines = all.filter((l) => l.reservationStatus === "RESERVED");
    // Lines whose stock a refused cancel already gave back: paid for, never sold.
    const given = all.filter((l) => l.reservationStatus === "RELEASED");
    const settled = await Promise.allSettled(
      lines.map((l) => this.#sku(l.sku).confirm({ orderId: this.name, key: this.#key() })),
    );
    const unconfirmed: LineFailure[] = [];
    const at = new Date().toISOString();
    this.transaction(() => {
      for (const l of given) {
        const failure = lineFailure(l.sku, invalidReleased(this.name));
        unconfirmed.push(failure);
        this.#setLine(l.id, "FAILED");
        this.#log("PAID", "PAID", `${l.sku} could not be confirmed: ${failure.code}`, "system", at, {
          failure,
        });
      }
      for (const [i, s] of settled.entries()) {
        const failure = s.status === "rejected" ? lineFailure(lines[i].sku, s.reason) : undefined;
        if (!failure || failure.code === "INVALID_STATUS_CONFIRMED") {
          this.#setLine(lines[i].id, "CONFIRMED");
          continue;
        }
        unconfirmed.push(failure);
        // A final answer settles the line; anything else (a SKU unreachable) is retried by the schedule.
        if (!isFinalAnswer(failure.code)) continue;
        this.#setLine(lines[i].id, "FAILED");
        this.#log("PAID", "PAID", `${failure.sku} could not be confirmed: ${failure.code}`, "system", at, {
          failure,
        });
      }
    });
    return unconfirmed;
  }

  /**
   * Refund a paid order. Lines still RESERVED (a confirm pending: the SKU was unreachable) are
   * released first, so no stock stays held for a refunded order and the `confirm` task cannot sell
   * it later; a line the SKU says was sold meanwhile is CONFIRMED (sold and refunded: returns are
   * not implemented). When a SKU cannot be reached the order stays where it is (`RELEASE_FAILED`,
   * retry), the lines already settled are recorded, and the confirm task keeps running.
   */
  async #refund(from: OrderStatus, reason: string | null, actor: string): Promise<void> {
    const held = this.#lines().filter((l) => l.reservationStatus === "RESERVED");
    const { released, confirmed, foreign } = await this.#releaseAll(held, reason ?? "order refunded");
    const settled = new Set([...released, ...confirmed, ...foreign.map((f) => f.id)]);
    const at = new Date().toISOString();
    const done = settled.size === held.length;
    this.transaction(() => {
      for (const id of released) this.#setLine(id, "RELEASED");
      for (const id of confirmed) this.#setLine(id, "CONFIRMED");
      this.#settleForeign(from, foreign, at);
      if (!done) return;
      this.db.update(payments).set({ status: "REFUNDED" }).where(eq(payments.status, "SUCCEEDED")).run();
      this.#setStatus(from, "REFUNDED", reason, actor, at);
      this.schedule.cancel("confirm");
    });
    if (!done)
      throw new ActorError("RELEASE_FAILED", "some reservations could not be released; try again", {
        skus: held.filter((l) => !settled.has(l.id)).map((l) => l.sku),
      });
  }

  /**
   * Give back the stock of every line that may hold some (RESERVED, or PENDING when a checkout
   * was interrupted), then move to CANCELLED. Stays in its status when a SKU cannot be reached
   * (`RELEASE_FAILED`, retry) or says the stock was already sold (`RESERVATION_CONFIRMED`); the
   * lines whose SKUs did give their stock back are then marked RELEASED (past checkout).
   */
  async #cancel(from: OrderStatus, reason: string, actor: string): Promise<void> {
    const held = this.#lines().filter(
      (l) => l.reservationStatus === "RESERVED" || l.reservationStatus === "PENDING",
    );
    const { released, confirmed, foreign } = await this.#releaseAll(held, reason);
    const settled = released.length + foreign.length;
    // The cancel stops here, but these SKUs gave their stock back: the order must say so (a later
    // payment reports them for a refund; a retried cancel skips them). A PENDING order keeps its
    // lines PENDING: its resumed checkout finds them released at the SKU and cancels.
    if ((confirmed.length || settled < held.length) && settled && from !== "PENDING") {
      const at = new Date().toISOString();
      const skus = held.filter((l) => released.includes(l.id)).map((l) => l.sku);
      this.transaction(() => {
        for (const id of released) this.#setLine(id, "RELEASED");
        if (skus.length) this.#log(from, from, `released while cancelling: ${skus.join(", ")}`, actor, at);
        this.#settleForeign(from, foreign, at);
      });
    }
    if (confirmed.length)
      throw reservationConfirmed(
        this.name,
        held.filter((l) => confirmed.includes(l.id)).map((l) => l.sku),
      );
    if (settled < held.length)
      throw new ActorError("RELEASE_FAILED", "some reservations could not be released; try again", {
        skus: held
          .filter((l) => !released.includes(l.id) && !foreign.some((f) => f.id === l.id))
          .map((l) => l.sku),
      });
    const at = new Date().toISOString();
    this.transaction(() => {
      for (const id of released) this.#setLine(id, "RELEASED");
      this.#settleForeign(from, foreign, at);
      this.#setStatus(from, "CANCELLED", reason, actor, at);
      this.schedule.cancel("checkout");
      this.schedule.cancel("reservation-expiry");
    });
  }

  /**
   * Release each line's reservation, retrying transient failures. `released`: lines now free;
   * `confirmed`: lines whose stock the SKU says was sold; `foreign`: lines whose reservation the
   * SKU holds for another caller (RESERVATION_OWNED), so this order holds nothing there.
   */
  async #releaseAll(
    lines: Line[],
    reason: string,
  ): Promise<{ released: number[]; confirmed: number[]; foreign: { id: number; failure: LineFailure }[] }> {
    const key = this.#key();
    const released: number[] = [];
    const confirmed: number[] = [];
    const foreign: { id: number; failure: LineFailure }[] = [];
    await Promise.all(
      lines.map(async (l) => {
        for (let attempt = 1; ; attempt++) {
          try {
            await this.#sku(l.sku).release({ orderId: this.name, reason, key });
            released.push(l.id);
            return;
          } catch (err) {
            const code = ActorError.from(err)?.code;
            if (code && ALREADY_RELEASED.has(code)) return void released.push(l.id);
            // Final, not transient: retrying would answer the same forever.
            if (code === "INVALID_STATUS_CONFIRMED") return void confirmed.push(l.id);
            if (code === "RESERVATION_OWNED")
              return void foreign.push({ id: l.id, failure: lineFailure(l.sku, err) });
            // Any other final answer is not retried either: only a SKU out of reach is.
            if ((code && isFinalAnswer(code)) || attempt >= RELEASE_TRIES) return;
          }
        }
      }),
    );
    return { released, confirmed, foreign };
  }

  /** Lines whose reservation another caller owns: FAILED (nothing of this order's there), logged. */
  #settleForeign(status: OrderStatus, foreign: { id: number; failure: LineFailure }[], at: string): void {
    for (const { id, failure } of foreign) {
      this.#setLine(id, "FAILED");
      this.#log(status, status, `${failure.sku} could not be released: ${failure.code}`, "system", at, {
        failure,
      });
    }
  }

  #create(request: Checkout): void {
    const at = new Date().toISOString();
    const subtotal = request.items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
    if (!Number.isSafeInteger(subtotal))
      throw new ActorError("VALIDATION_FAILED", "items: the order total exceeds the supported maximum");
    this.transaction(() => {
      this.db
        .insert(orderHeader)
        .values({
          id: this.name,
          customerId: request.customerId,
          status: "PENDING",
          subtotal,
          total: subtotal,
          shippingAddress: request.shippingAddress ? JSON.stringify(request.shippingAddress) : null,
          billingAddress: request.billingAddress ? JSON.stringify(request.billingAddress) : null,
          createdAt: at,
          updatedAt: at,
        })
        .run();
      for (const item of request.items)
        this.db
          .insert(orderLines)
          .values({
            orderId: this.name,
            sku: item.sku,
            productName: item.sku,
            quantity: item.quantity,
            unitPrice: item.unitPrice,
            lineTotal: item.quantity * item.unitPrice,
          })
          .run();
      this.#log(null, "PENDING", "checkout started", request.customerId, at);
      this.ctx.storage.kv.put(RESERVATION_KEY, crypto.randomUUID());
      this.schedule.at(CHECKOUT_DEADLINE_MS, "resolveCheckout", undefined, { key: "checkout" });
    });
  }

  /** The key this order's reservations are held under (none for orders made before keys existed). */
  #key(): string | undefined {
    return this.ctx.storage.kv.get<string>(RESERVATION_KEY);
  }

  /** The header, when the order exists and (given a customer) is theirs; otherwise ORDER_NOT_FOUND. */
  #owned(customerId: string | undefined): Header {
    const header = this.#header();
    if (!header || (customerId !== undefined && header.customerId !== customerId))
      throw orderNotFound(this.name);
    return header;
  }

  #assertSameRequest(header: Header, request: Checkout): void {
    const stored = this.#lines()
      .map((l) => `${l.sku}:${l.quantity}:${l.unitPrice}`)
      .sort();
    const asked = request.items.map((i) => `${i.sku}:${i.quantity}:${i.unitPrice}`).sort();
    if (
      header.customerId !== request.customerId ||
      stored.join() !== asked.join() ||
      !sameAddress(parseJson<Address>(header.shippingAddress), request.shippingAddress) ||
      !sameAddress(parseJson<Address>(header.billingAddress), request.billingAddress)
    )
      throw new ActorError("ORDER_EXISTS", `order ${this.name} exists with other contents`, {
        orderId: this.name,
      });
  }

  /** The failure of this order's checkout, when it ended there. */
  #checkoutFailure(): ActorError | undefined {
    const [entry] = this.db
      .select()
      .from(statusLog)
      .where(eq(statusLog.toStatus, "CANCELLED"))
      .orderBy(asc(statusLog.id))
      .limit(1)
      .all();
    if (entry?.fromStatus !== "PENDING") return undefined;
    const { failures } = JSON.parse(entry.details ?? '{"failures":[]}') as { failures: LineFailure[] };
    return checkoutFailed(this.name, failures);
  }

  #setStatus(
    from: OrderStatus,
    to: OrderStatus,
    reason: string | null,
    actor: string,
    at: string,
    details?: StatusDetails,
  ): void {
    const changed = this.db
      .update(orderHeader)
      .set({ status: to, updatedAt: at })
      .where(eq(orderHeader.status, from))
      .returning({ id: orderHeader.id })
      .all();
    // The callers checked `from`; a mismatch means the order changed underneath: roll back.
    if (changed.length !== 1) throw invalidTransition(from, to, `the order is no longer ${from}`);
    this.#log(from, to, reason, actor, at, details);
  }

  #log(
    from: OrderStatus | null,
    to: OrderStatus,
    reason: string | null,
    actor: string,
    at: string,
    details?: StatusDetails,
  ): void {
    this.db
      .insert(statusLog)
      .values({
        orderId: this.name,
        fromStatus: from,
        toStatus: to,
        reason,
        actor,
        details: details === undefined ? null : JSON.stringify(details),
        timestamp: at,
      })
      .run();
  }

  #setLine(id: number, status: LineReservationStatus): void {
    this.db.update(orderLines).set({ reservationStatus: status }).where(eq(orderLines.id, id)).run();
  }

  #header(): Header | undefined {
    return this.db.select().from(orderHeader).get();
  }

  #lines(): Line[] {
    return this.db.select().from(orderLines).orderBy(asc(orderLines.id)).all();
  }

  #view(): OrderView {
    const header = this.#header()!;
    return {
      ...header,
      shippingAddress: parseJson<Address>(header.shippingAddress),
      billingAddress: parseJson<Address>(header.billingAddress),
      lines: this.#lines(),
      statusLog: this.db
        .select()
        .from(statusLog)
        .orderBy(asc(statusLog.id))
        .all()
        .map((e) => ({ ...e, details: parseJson<StatusDetails>(e.details) })),
      payments: this.db.select().from(payments).orderBy(asc(payments.createdAt)).all(),
    };
  }

  #sku(sku: string): DurableObjectStub<InventorySKU> {
    return this.env.INVENTORY_SKU.getByName(sku);
  }

  /** Run mutations of this order one after another, even across their awaits. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function lineFailure(sku: string, reason: unknown): LineFailure {
  const err = ActorError.from(reason);
  if (err)
    return {
      sku,
      code: err.code,
      message: err.description,
      ...(err.details ? { details: err.details as Details } : {}),
    };
  // Not a typed answer (a crash, a lost connection): its text stays in the log, never in the order.
  const traceId = crypto.randomUUID();
  console.error(`order line ${sku}: unexpected failure (trace ${traceId})`, reason);
  return { sku, code: "UNAVAILABLE", message: `the SKU could not be reached (trace ${traceId})` };
}

function skuNotFound(sku: string): ActorError {
  return new ActorError("SKU_NOT_FOUND", `SKU ${sku} has never been stocked`, { sku });
}

/** What a SKU answers when asked to confirm a reservation that was released. */
function invalidReleased(orderId: string): ActorError {
  return new ActorError("INVALID_STATUS_RELEASED", `reservation ${orderId} is RELEASED, not PENDING`, {
    orderId,
    status: "RELEASED",
  });
}

function checkoutFailed(orderId: string, failures: LineFailure[]): ActorError {
  return new ActorError(
    "CHECKOUT_FAILED",
    `order ${orderId} could not reserve: ${failures.map((f) => `${f.sku} ${f.code}`).join(", ")}`,
    { orderId, failures },
  );
}

/** Whether two addresses hold the same fields (in any order); absent and null are the same. */
function sameAddress(a: Address | null | undefined, b: Address | null | undefined): boolean {
  const canonical = (x: Address | null | undefined) =>
    x == null
      ? null
      : JSON.stringify(Object.entries(x).sort(([k1], [k2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : 0)));
  return canonical(a) === canonical(b);
}

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
