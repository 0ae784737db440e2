import migrations from "../../migrations/inventory-sku/migrations.js";
import { registerName } from "../../src/coordinator/directory";
import { parseInput } from "../../src/coordinator/validate";
import { type ActorConfig, defineActor } from "../../src/define-actor";
import { ActorError } from "../../src/errors";
import { fleet } from "../../src/fleet/part";
import { history } from "../../src/history/index";
import { rpc } from "../../src/rpc/index";
import { SqlActor } from "../../src/sql-actor";
import {
  insufficientStock,
  invalidStatus,
  notTheOwner,
  reservationExists,
  reservationNotFound,
  skuNotFound,
} from "./errors";
import {
  type ConfirmInput,
  confirmInput,
  DEFAULT_TTL_MINUTES,
  type HistoryInput,
  historyInput,
  maxTtlMinutes,
  pastTimestampInput,
  type ReleaseInput,
  type ReserveInput,
  type ReserveManyInput,
  type RestockInput,
  releaseInput,
  reserveInput,
  reserveManyInput,
  restockInput,
  type TimestampInput,
} from "./inputs";
import {
  CHANGE_FIGURES,
  CREATE_SKU,
  HOLD,
  INSERT_RESERVATION,
  LOG,
  LOG_HOLD,
  SET_RESERVATION_STATUS,
  SNAPSHOT,
  STATUS,
} from "./reserve-sql";
import type { LogOperation, ReservationStatus } from "./schema";
import * as schema from "./schema";

export interface Figures {
  available: number;
  reserved: number;
  sold: number;
}

export interface ReserveResult {
  success: true;
  reservationId: string;
  quantity: number;
  status: "PENDING" | "CONFIRMED";
  expiresAt: string;
  productName: string;
}

/**
 * Error details as they travel in results: flat JSON, spelled out because RPC stub types turn
 * `unknown` into `never` (and a recursive JSON type is too deep for them).
 */
export type Details = Record<string, string | number | boolean | null | string[]>;

export type ReserveManyItem =
  | (ReserveResult & { orderId: string })
  | { orderId: string; success: false; error: { code: string; message: string; details?: Details } };

export interface InventoryStatus extends Figures {
  sku: string;
  productName: string;
  restocked: number;
  pendingReservations: number;
  updatedAt: string;
}

export interface LogEntry {
  id: number;
  operation: LogOperation;
  quantity: number;
  referenceId: string | null;
  availableBefore: number;
  availableAfter: number;
  reservedBefore: number;
  reservedAfter: number;
  soldBefore: number;
  soldAfter: number;
  reason: string | null;
  timestamp: string;
}

/** The stock figures and, when `orderId` has one, its reservation: one read serves every operation. */
interface Snapshot extends Figures {
  productName: string;
  rQuantity: number | null;
  rStatus: ReservationStatus | null;
  rExpiresAt: string | null;
  rOwnerKey: string | null;
}

const EXPIRY_BATCH = 500;
/** How often a stocked SKU sweeps expired reservations. */
export const EXPIRY_INTERVAL_MS = 60_000;

/**
 * The stock of one SKU (the actor's name): reservations that hold stock for an order until it is
 * confirmed (sold), released or expired, restocks, and an audit log of every change.
 *
 * Every change goes through `#change`, which updates the figures and writes the log row with the
 * figures before and after in the same transaction, so the log cannot disagree with the stock.
 * The table's CHECK constraints refuse any negative figure and any state where
 * available + reserved + sold differs from everything restocked.
 */
export class InventorySKU extends SqlActor<Env, typeof schema> {
  /** Its export name, kept when a minifier renames the class (src/export-name.ts). */
  static override readonly exportName: string = "InventorySKU";
  /** The longest hold this deployment allows: read from the environment once per wake. */
  readonly #maxTtl = maxTtlMinutes(this.env);
  // The figures and reservations are captured for time travel (`stateAt`); inventory_log is an
  // append-only audit log, its own history, so it is not captured twice. 30 days of changes are
  // kept (the framework prunes on a schedule from the first change), so the WAL stays bounded.
  // Sockets (`/inventory/:sku/ws`): anyone may read the figures, live too; writes are admin, as over HTTP.
  static override config: ActorConfig<typeof schema> = defineActor({
    schema,
    migrations,
    // The figures are public (status is): sockets may follow them live; reservations hold order ids.
    history: history({ tables: ["inventory", "reservations"], retain: "30d", live: { inventory: true } }),
    rpc: rpc({
      methods: {
        status: "public",
        reserve: "admin",
        reserveMany: "admin",
        confirm: "admin",
        release: "admin",
        restock: "admin",
        auditLog: "admin",
        stateAt: "admin",
      },
      live: { role: "public" },
    }),
    fleet: fleet("inventory"),
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Idempotent by key, so asserting it on every wake never adds a second task. SKUs never
    // stocked get no alarm (restock adds the schedule when it creates the SKU).
    if (this.#stocked()) this.#scheduleExpiry();
  }

  /**
   * Hold `quantity` for `orderId` until confirmed, released, or `ttlMinutes` pass (default 15, at
   * most 60 or `INVENTORY_MAX_TTL_MINUTES`). With `key` (the Order actor's), only a call with the
   * same key, or an admin's, may confirm or release it.
   */
  reserve(input: ReserveInput): ReserveResult {
    const { orderId, quantity, ttlMinutes, key } = parseInput(reserveInput, input);
    const ttl = this.#ttl(ttlMinutes);
    const now = Date.now();
    const outcome = this.transaction(() => this.#reserveOne(orderId, quantity, ttl, now, key));
    if (outcome instanceof ActorError) throw outcome;
    return outcome;
  }

  /**
   * Many reserves in one transaction, for flash-sale front ends that batch requests. Each item
   * gets its own result; a refused item (no stock, a conflicting reservation) does not undo others.
   * `reserved` is how many distinct order ids of the batch hold a reservation after it.
   */
  reserveMany(input: ReserveManyInput): { results: ReserveManyItem[]; reserved: number } {
    const { items } = parseInput(reserveManyInput, input);
    const ttls = items.map((item) => this.#ttl(item.ttlMinutes));
    const now = Date.now();
    const results = this.transaction(() =>
      items.map((item, i): ReserveManyItem => {
        const outcome = this.#reserveOne(item.orderId, item.quantity, ttls[i], now, item.key);
        if (!(outcome instanceof ActorError)) return { orderId: item.orderId, ...outcome };
        const error = {
          code: outcome.code,
          message: outcome.description,
          details: outcome.details as Details,
        };
        return { orderId: item.orderId, success: false, error };
      }),
    );
    // Idempotency is per order id: a second item of one order id is the replay of the first (the
    // same reservation, as in the next batch), so `reserved` counts order ids, not items.
    return { results, reserved: new Set(results.flatMap((r) => (r.success ? [r.orderId] : []))).size };
  }

  /** The reservation becomes a sale: reserved moves to sold. An order's reservation needs its key or an admin. */
  confirm(input: ConfirmInput): {
    success: true;
    reservationId: string;
    quantity: number;
    status: "CONFIRMED";
  } {
    const { orderId, key, admin } = parseInput(confirmInput, input);
    const outcome = this.transaction(() => {
      const found = this.#pending(orderId, Date.now(), { key, admin });
      if (found instanceof ActorError) return found;
      const at = new Date().toISOString();
      const q = found.quantity;
      this.database.query(SET_RESERVATION_STATUS, ["CONFIRMED", at, null, null, orderId]);
      this.#change("CONFIRM", q, orderId, found.figures, 0, -q, q, 0, admin ? "by admin" : null, at);
      return found.quantity;
    });
    if (outcome instanceof ActorError) throw outcome;
    return { success: true, reservationId: orderId, quantity: outcome, status: "CONFIRMED" };
  }

  /** Give a pending reservation's stock back. An order's reservation needs its key or an admin. */
  release(input: ReleaseInput): {
    success: true;
    reservationId: string;
    quantityReleased: number;
    status: "RELEASED";
  } {
    const { orderId, reason: asked, key, admin } = parseInput(releaseInput, input);
    const reason = admin ? `by admin${asked ? `: ${asked}` : ""}` : (asked ?? null);
    const outcome = this.transaction(() => {
      const found = this.#pending(orderId, Date.now(), { key, admin });
      if (found instanceof ActorError) return found;
      const at = new Date().toISOString();
      this.database.query(SET_RESERVATION_STATUS, ["RELEASED", null, at, reason, orderId]);
      const q = found.quantity;
      this.#change("RELEASE", q, orderId, found.figures, q, -q, 0, 0, reason, at);
      return q;
    });
    if (outcome instanceof ActorError) throw outcome;
    return { success: true, reservationId: orderId, quantityReleased: outcome, status: "RELEASED" };
  }

  /**
   * Add stock. The first restock creates the SKU (named after the actor unless `productName` is
   * given), after registering its name so that lookups find it (src/coordinator/directory.ts).
   */
  async restock(input: RestockInput): Promise<InventoryStatus> {
    const { quantity, reference, productName } = parseInput(restockInput, input);
    if (!this.#stocked()) await registerName(this.env, "inventory", this.name);
    this.transaction(() => {
      const at = new Date().toISOString();
      const [current] = this.database.query<Figures & { restocked: number }>(
        "SELECT available, reserved, sold, restocked FROM inventory",
      );
      if (current && current.restocked + quantity > Number.MAX_SAFE_INTEGER)
        throw new ActorError("VALIDATION_FAILED", "quantity: total stock would exceed the supported maximum");
      if (!current) {
        this.database.query(CREATE_SKU, [this.name, productName ?? this.name, at]);
        this.#scheduleExpiry();
      } else if (productName) this.database.query("UPDATE inventory SET product_name = ?", [productName]);
      const before = current ?? { available: 0, reserved: 0, sold: 0 };
      this.#change("RESTOCK", quantity, reference ?? null, before, quantity, 0, 0, quantity, null, at);
    });
    return this.status();
  }

  /** Current figures and the number of pending reservations. */
  status(): InventoryStatus {
    const [row] = this.database.query<InventoryStatus>(STATUS);
    if (!row) throw skuNotFound(this.name);
    return row;
  }

  /**
   * The audit log (inventory_log), newest first; `beforeId` pages further back. Named `auditLog`
   * because `history` on every actor is the framework's change history (WAL, time travel).
   */
  auditLog(input: HistoryInput = {}): { history: LogEntry[] } {
    const { limit, operation, beforeId } = parseInput(historyInput, input ?? {});
    const where: string[] = [];
    const params: unknown[] = [];
    if (operation) {
      where.push("operation = ?");
      params.push(operation);
    }
    if (beforeId !== undefined) {
      where.push("id < ?");
      params.push(beforeId);
    }
    params.push(limit ?? 50);
    const history = this.database.query<LogEntry>(
      `SELECT id, operation, quantity, reference_id AS referenceId, available_before AS availableBefore,
        available_after AS availableAfter, reserved_before AS reservedBefore, reserved_after AS reservedAfter,
        sold_before AS soldBefore, sold_after AS soldAfter, reason, timestamp
       FROM inventory_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`,
      params,
    );
    return { history };
  }

  /** The figures as they were at `timestamp` (ISO-8601 or epoch ms), read from the change history. */
  stateAt(timestamp: TimestampInput): InventoryStatus & { at: string } {
    const input = parseInput(pastTimestampInput, timestamp);
    const at = typeof input === "number" ? input : Date.parse(input);
    // Before the first restock the SKU did not exist, whether or not history reaches that far back.
    const [first] = this.database.query<{ timestamp: string }>(
      "SELECT timestamp FROM inventory_log ORDER BY id LIMIT 1",
    );
    if (!first || at < Date.parse(first.timestamp)) throw notStockedAt(this.name, at);
    const [row] = this.query<Omit<InventoryStatus, "pendingReservations">>(
      `SELECT sku, product_name AS productName, available, reserved, sold, restocked, updated_at AS updatedAt
       FROM inventory FOR SYSTEM_TIME AS OF TIMESTAMP ?`,
      [at],
    );
    const iso = new Date(at).toISOString();
    if (!row) throw notStockedAt(this.name, at);
    const [pending] = this.query<{ n: number }>(
      "SELECT count(*) AS n FROM reservations FOR SYSTEM_TIME AS OF TIMESTAMP ? WHERE status = 'PENDING'",
      [at],
    );
    return { ...row, pendingReservations: pending.n, at: iso };
  }

  /**
   * Release every pending reservation whose time is up, each logged as EXPIRE with the running
   * figures. Runs from the every-minute schedule; safe to call at any time.
   */
  expireReservations(): { expired: number } {
    let expired = 0;
    for (;;) {
      const now = new Date().toISOString();
      const batch = this.transaction(() => {
        const [figures] = this.database.query<Figures>("SELECT available, reserved, sold FROM inventory");
        if (!figures) return 0;
        const due = this.database.query<{ id: string; quantity: number }>(
          "SELECT id, quantity FROM reservations WHERE status = 'PENDING' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?",
          [now, EXPIRY_BATCH],
        );
        let current = figures;
        for (const r of due) current = this.#expire(r.id, r.quantity, current, now);
        return due.length;
      });
      expired += batch;
      if (batch < EXPIRY_BATCH) return { expired };
    }
  }

  /** The hold asked for, within the configured maximum. */
  #ttl(asked: number | undefined): number {
    const max = this.#maxTtl;
    if (asked !== undefined && asked > max)
      throw new ActorError("VALIDATION_FAILED", `ttlMinutes: must be at most ${max}`, { max });
    return asked ?? Math.min(DEFAULT_TTL_MINUTES, max);
  }

  #scheduleExpiry(): void {
    this.schedule.every(EXPIRY_INTERVAL_MS, "expireReservations", undefined, { key: "expire" });
  }

  /** Whether the SKU exists (false too when the database could not start: every call reports that). */
  #stocked(): boolean {
    try {
      return this.database.query("SELECT 1 FROM inventory").length > 0;
    } catch {
      return false;
    }
  }

  /** Reserve inside the caller's transaction; an expected refusal is returned, not thrown. */
  #reserveOne(
    orderId: string,
    quantity: number,
    ttlMinutes: number,
    now: number,
    key: string | undefined,
  ): ReserveResult | ActorError {
    const at = new Date(now).toISOString();
    const [held] = this.query<{ productName: string }>(HOLD, [quantity, at, orderId]);
    if (held) {
      const expiresAt = new Date(now + ttlMinutes * 60_000).toISOString();
      this.query(INSERT_RESERVATION, [orderId, quantity, at, expiresAt, key ?? null]);
      this.query(LOG_HOLD, [quantity, orderId, at]);
      return {
        success: true,
        reservationId: orderId,
        quantity,
        status: "PENDING",
        expiresAt,
        productName: held.productName,
      };
    }
    const [row] = this.query<Snapshot>(SNAPSHOT, [orderId]);
    if (!row) return skuNotFound(this.name);
    if (row.rStatus !== null) {
      let status = row.rStatus;
      if (status === "PENDING" && isDue(row.rExpiresAt!, now)) {
        this.#expire(orderId, row.rQuantity!, row, new Date(now).toISOString());
        status = "EXPIRED";
      }
      // The same request again (a retry) gets the same reservation; anything else is a conflict.
      if ((status === "PENDING" || status === "CONFIRMED") && row.rQuantity === quantity)
        return {
          success: true,
          reservationId: orderId,
          quantity,
          status,
          expiresAt: row.rExpiresAt!,
          productName: row.productName,
        };
      return reservationExists(orderId, status, row.rQuantity!);
    }
    if (row.available < quantity) return insufficientStock(this.name, row.available, quantity);
    const expiresAt = new Date(now + ttlMinutes * 60_000).toISOString();
    this.query(INSERT_RESERVATION, [orderId, quantity, at, expiresAt, key ?? null]);
    this.#change("RESERVE", quantity, orderId, row, -quantity, quantity, 0, 0, null, at);
    return {
      success: true,
      reservationId: orderId,
      quantity,
      status: "PENDING",
      expiresAt,
      productName: row.productName,
    };
  }

  /**
   * The pending reservation of `orderId` with the current figures; a due one is expired first.
   * A reservation an order holds under its key is answered only to that key or to an admin.
   */
  #pending(
    orderId: string,
    now: number,
    caller: { key?: string; admin?: boolean },
  ): { quantity: number; figures: Figures } | ActorError {
    const [row] = this.database.query<Snapshot>(SNAPSHOT, [orderId]);
    if (!row || row.rStatus === null) return reservationNotFound(orderId);
    if (row.rOwnerKey !== null && row.rOwnerKey !== caller.key && caller.admin !== true)
      return notTheOwner(orderId);
    if (row.rStatus === "PENDING" && isDue(row.rExpiresAt!, now)) {
      this.#expire(orderId, row.rQuantity!, row, new Date(now).toISOString());
      return invalidStatus(orderId, "EXPIRED");
    }
    if (row.rStatus !== "PENDING") return invalidStatus(orderId, row.rStatus);
    return { quantity: row.rQuantity!, figures: row };
  }

  #expire(orderId: string, quantity: number, figures: Figures, at: string): Figures {
    this.query(SET_RESERVATION_STATUS, ["EXPIRED", null, at, "expired", orderId]);
    return this.#change("EXPIRE", quantity, orderId, figures, quantity, -quantity, 0, 0, null, at);
  }

  /** Apply deltas to the figures and log them with their exact before and after values. */
  #change(
    operation: LogOperation,
    quantity: number,
    referenceId: string | null,
    before: Figures,
    dAvailable: number,
    dReserved: number,
    dSold: number,
    dRestocked: number,
    reason: string | null,
    at: string,
  ): Figures {
    const after = {
      available: before.available + dAvailable,
      reserved: before.reserved + dReserved,
      sold: before.sold + dSold,
    };
    // `this.query`: a write's cursor is not read (see src/query-route.ts).
    this.query(CHANGE_FIGURES, [dAvailable, dReserved, dSold, dRestocked, at]);
    this.#log(operation, quantity, referenceId, before, after, reason, at);
    return after;
  }

  /** The log row of a change of the figures from `before` to `after`. */
  #log(
    operation: LogOperation,
    quantity: number,
    referenceId: string | null,
    before: Figures,
    after: Figures,
    reason: string | null,
    at: string,
  ): void {
    this.query(LOG, [
      operation,
      quantity,
      referenceId,
      before.available,
      after.available,
      before.reserved,
      after.reserved,
      before.sold,
      after.sold,
      reason,
      at,
    ]);
  }
}

function isDue(expiresAt: string, now: number): boolean {
  return Date.parse(expiresAt) <= now;
}

function notStockedAt(sku: string, at: number): ActorError {
  const iso = new Date(at).toISOString();
  return new ActorError("SKU_NOT_FOUND", `SKU ${sku} had not been stocked at ${iso}`, { sku, at: iso });
}
