import { DurableObject } from "cloudflare:workers";
import { InventorySKU } from "../../actors/index";
import {
  CHANGE_FIGURES,
  CREATE_SKU,
  HOLD,
  INSERT_RESERVATION,
  LOG,
  LOG_HOLD,
  SNAPSHOT,
  STATUS,
} from "../../actors/inventory-sku/reserve-sql";
import * as schema from "../../actors/inventory-sku/schema";
import migrations from "../../migrations/inventory-sku/migrations.js";
import { applyMigrations, defineActor } from "../../src/index";

/**
 * The framework side: the real InventorySKU (history on, as shipped), plus one method that runs
 * `n` reserves in one call.
 */
export class BenchInventory extends InventorySKU {
  /** When this instance was constructed (the wake bench: a woken object is a new instance). */
  readonly #bornAt = Date.now();

  benchBornAt(): number {
    return this.#bornAt;
  }

  /** The wake bench: evict the object from memory now (`ctx.abort`); its storage stays. */
  benchEvict(): void {
    this.ctx.abort("bench: evicted");
  }

  async benchReserve(n: number, prefix: string): Promise<number> {
    // restock is async (it registers the SKU's name first): the reserves wait for the stock.
    await this.restock({ quantity: n });
    for (let i = 0; i < n; i++) this.reserve({ orderId: `${prefix}-${i}`, quantity: 1 });
    return n;
  }
}

/** The same with history off. */
export class BenchInventoryNoHistory extends BenchInventory {
  static override config = defineActor({ schema, migrations });
}

// The baseline's SQL is the actor's, statement for statement (actors/inventory-sku/reserve-sql.ts).
const ORDER_ID = /^[A-Za-z0-9._-]{1,128}$/;

type Snapshot = {
  available: number;
  reserved: number;
  sold: number;
  productName: string;
  rQuantity: number | null;
  rStatus: string | null;
  rExpiresAt: string | null;
  rOwnerKey: string | null;
};

/**
 * The baseline: a hand-written Durable Object doing the same reserve with the same SQL; and, for
 * the wake bench, a hibernatable WebSocket answering `{ id, method: "status" }` with
 * `{ id, result }` as InventorySKU's socket does.
 */
export class PlainInventory extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #bornAt = Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // The actor's tables, from the same migrations (schema only: nothing of it on the reserve path).
    applyMigrations(ctx.storage, migrations);
  }

  restock(quantity: number): void {
    if (!Number.isSafeInteger(quantity) || quantity < 1) throw new Error("bad quantity");
    const at = new Date().toISOString();
    this.ctx.storage.transactionSync(() => {
      const row = this.#sql.exec<{ available: number; reserved: number; sold: number }>(
        "SELECT available, reserved, sold FROM inventory",
      );
      const before = row.toArray()[0];
      if (!before) this.#sql.exec(CREATE_SKU, this.ctx.id.name ?? "sku", this.ctx.id.name ?? "sku", at);
      const b = before ?? { available: 0, reserved: 0, sold: 0 };
      this.#sql.exec(CHANGE_FIGURES, quantity, 0, 0, quantity, at);
      this.#sql.exec(
        LOG,
        "RESTOCK",
        quantity,
        null,
        b.available,
        b.available + quantity,
        b.reserved,
        b.reserved,
        b.sold,
        b.sold,
        null,
        at,
      );
    });
  }

  reserve(input: { orderId: string; quantity: number; ttlMinutes?: number }) {
    if (typeof input !== "object" || input === null) throw new Error("bad input");
    const { orderId, quantity } = input;
    const ttl = input.ttlMinutes ?? 15;
    if (typeof orderId !== "string" || !ORDER_ID.test(orderId)) throw new Error("bad orderId");
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > 1e9) throw new Error("bad quantity");
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > 10080) throw new Error("bad ttl");
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      const at = new Date(now).toISOString();
      const held = this.#sql.exec<{ productName: string }>(HOLD, quantity, at, orderId).toArray()[0];
      if (held) {
        const expiresAt = new Date(now + ttl * 60_000).toISOString();
        this.#sql.exec(INSERT_RESERVATION, orderId, quantity, at, expiresAt, null);
        this.#sql.exec(LOG_HOLD, quantity, orderId, at);
        return {
          success: true,
          reservationId: orderId,
          quantity,
          status: "PENDING",
          expiresAt,
          productName: held.productName,
        };
      }
      const row = this.#sql.exec<Snapshot>(SNAPSHOT, orderId).toArray()[0];
      if (!row) throw new Error("SKU_NOT_FOUND");
      if (row.rStatus !== null) {
        if (row.rQuantity === quantity && row.rStatus === "PENDING")
          return { success: true, reservationId: orderId, expiresAt: row.rExpiresAt };
        throw new Error("RESERVATION_EXISTS");
      }
      if (row.available < quantity) throw new Error("INSUFFICIENT_STOCK");
      const expiresAt = new Date(now + ttl * 60_000).toISOString();
      this.#sql.exec(INSERT_RESERVATION, orderId, quantity, at, expiresAt, null);
      this.#sql.exec(CHANGE_FIGURES, -quantity, quantity, 0, 0, at);
      this.#sql.exec(
        LOG,
        "RESERVE",
        quantity,
        orderId,
        row.available,
        row.available - quantity,
        row.reserved,
        row.reserved + quantity,
        row.sold,
        row.sold,
        null,
        at,
      );
      return {
        success: true,
        reservationId: orderId,
        quantity,
        status: "PENDING",
        expiresAt,
        productName: row.productName,
      };
    });
  }

  benchReserve(n: number, prefix: string): number {
    this.restock(n);
    for (let i = 0; i < n; i++) this.reserve({ orderId: `${prefix}-${i}`, quantity: 1 });
    return n;
  }

  status(): Record<string, SqlStorageValue> {
    const row = this.#sql.exec(STATUS).toArray()[0];
    if (!row) throw new Error("SKU_NOT_FOUND");
    return row;
  }

  benchBornAt(): number {
    return this.#bornAt;
  }

  benchEvict(): void {
    this.ctx.abort("bench: evicted");
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade") !== "websocket") return new Response("not found", { status: 404 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    let id: unknown;
    try {
      const frame = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
      id = frame?.id;
      if (frame?.method !== "status") throw new Error("METHOD_NOT_FOUND");
      ws.send(JSON.stringify({ id, result: this.status() }));
    } catch (err) {
      ws.send(JSON.stringify({ id, error: { code: "FAILED", message: String(err) } }));
    }
  }
}

/**
 * The hand-written Worker side of the HTTP bench: no router, no framework, the same checks.
 * `POST /plain-http/inventory/:sku/reserve` and `/restock`.
 */
export async function plainInventoryHttp(
  request: Request,
  ns: DurableObjectNamespace<PlainInventory>,
): Promise<Response> {
  const match = /^\/plain-http\/inventory\/([A-Za-z0-9._-]{1,128})\/(reserve|restock)$/.exec(
    new URL(request.url).pathname,
  );
  if (!match || request.method !== "POST")
    return Response.json({ error: { code: "NOT_FOUND" } }, { status: 404 });
  let body: { orderId: string; quantity: number };
  try {
    body = await request.json();
  } catch {
    return Response.json({ error: { code: "INVALID_JSON" } }, { status: 400 });
  }
  const stub = ns.getByName(match[1]);
  try {
    if (match[2] === "restock") {
      await stub.restock(body.quantity);
      return Response.json({ ok: true });
    }
    return Response.json(await stub.reserve(body));
  } catch (err) {
    return Response.json({ error: { code: "CONFLICT", message: String(err) } }, { status: 409 });
  }
}
