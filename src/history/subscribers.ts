import { ActorError } from "../errors";
import { floorLsn, lastLsn, SUBSCRIBERS } from "./store";

/**
 * Durable subscribers: a consumer registers once, reads `changes({ fromLsn: acked + 1 })`, and
 * acknowledges what it has processed. Retention never prunes a change a subscriber has not acked.
 */
export interface Subscription {
  id: string;
  /** Every change up to this LSN is acknowledged. */
  acked: number;
  /** Where to read next: `changes({ fromLsn: nextLsn })`. */
  nextLsn: number;
}

function checkId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > 128)
    throw new ActorError("VALIDATION_FAILED", "subscriber id must be a string of 1 to 128 characters");
  return id;
}

const toSubscription = (r: { id: string; acked: number }): Subscription => ({
  id: r.id,
  acked: r.acked,
  nextLsn: r.acked + 1,
});

/** Register (or return the existing) subscriber; a new one starts after the newest change, or at `fromLsn`. */
export function subscribe(sql: SqlStorage, id: unknown, options: { fromLsn?: number } = {}): Subscription {
  const key = checkId(id);
  const existing = sql
    .exec<{ id: string; acked: number }>(`SELECT id, acked FROM ${SUBSCRIBERS} WHERE id = ?`, key)
    .toArray()[0];
  if (existing) return toSubscription(existing);
  const from = options?.fromLsn ?? lastLsn(sql) + 1;
  if (!Number.isSafeInteger(from) || from < 1)
    throw new ActorError("VALIDATION_FAILED", "fromLsn must be a positive integer");
  if (from < floorLsn(sql))
    throw new ActorError("HISTORY_PRUNED", `changes before LSN ${floorLsn(sql)} were pruned`, {
      floorLsn: floorLsn(sql),
    });
  sql.exec(`INSERT INTO ${SUBSCRIBERS} (id, acked, created_at) VALUES (?, ?, ?)`, key, from - 1, Date.now());
  return toSubscription({ id: key, acked: from - 1 });
}

/** Acknowledge every change up to `lsn`. Acks only move forward; a repeated or older ack is a no-op. */
export function ack(sql: SqlStorage, id: unknown, lsn: unknown): Subscription {
  const key = checkId(id);
  if (!Number.isSafeInteger(lsn) || (lsn as number) < 0)
    throw new ActorError("VALIDATION_FAILED", "lsn must be a non-negative integer");
  const last = lastLsn(sql);
  if ((lsn as number) > last)
    throw new ActorError("VALIDATION_FAILED", `lsn ${lsn} is past the newest change (${last})`, {
      lastLsn: last,
    });
  const row = sql
    .exec<{ id: string; acked: number }>(
      `UPDATE ${SUBSCRIBERS} SET acked = max(acked, ?) WHERE id = ? RETURNING id, acked`,
      lsn as number,
      key,
    )
    .toArray()[0];
  if (!row) throw new ActorError("SUBSCRIBER_NOT_FOUND", `no subscriber ${key}`, { id: key });
  return toSubscription(row);
}

export function unsubscribe(sql: SqlStorage, id: unknown): boolean {
  const key = checkId(id);
  sql.exec(`DELETE FROM ${SUBSCRIBERS} WHERE id = ?`, key);
  return Number(sql.exec("SELECT changes() AS n").one().n) > 0;
}

export function listSubscribers(sql: SqlStorage): Subscription[] {
  return sql
    .exec<{ id: string; acked: number }>(`SELECT id, acked FROM ${SUBSCRIBERS} ORDER BY id`)
    .toArray()
    .map(toSubscription);
}

/** The lowest acknowledged LSN, or undefined without subscribers. */
export function lowestAck(sql: SqlStorage): number | undefined {
  const row = sql.exec<{ a: number | null }>(`SELECT min(acked) AS a FROM ${SUBSCRIBERS}`).one();
  return row.a ?? undefined;
}
