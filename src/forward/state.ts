/**
 * Durable state of each forward, beside its durable subscriber in history (which holds the
 * acknowledged LSN, so retention already keeps what a forward has not delivered):
 * - `_dosql_forwards`: active or parked, consecutive failures and the last error, delivery counts;
 * - `_dosql_forward_sent`: per destination, the `to` of the last batch it accepted (a batch's `after`);
 * - `_dosql_forward_epoch`: when this actor's storage began (one row), every batch's `epoch`.
 */
import { addMissingColumns } from "../sql/tables";

export const FORWARDS = "_dosql_forwards";
export const SENT = "_dosql_forward_sent";
export const EPOCH = "_dosql_forward_epoch";

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${FORWARDS} (name TEXT PRIMARY KEY, state TEXT NOT NULL DEFAULT 'active',
    failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_attempt_at INTEGER, parked_at INTEGER,
    batches INTEGER NOT NULL DEFAULT 0, changes INTEGER NOT NULL DEFAULT 0, last_delivery_at INTEGER,
    gap_destination TEXT, gap_applied INTEGER, gap_floor INTEGER)`,
  `CREATE TABLE IF NOT EXISTS ${SENT} (forward TEXT NOT NULL, destination TEXT NOT NULL, sent_to INTEGER NOT NULL,
    PRIMARY KEY (forward, destination))`,
  `CREATE TABLE IF NOT EXISTS ${EPOCH} (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)`,
];

export type ForwardRow = {
  name: string;
  state: "active" | "parked";
  failures: number;
  last_error: string | null;
  next_attempt_at: number | null;
  parked_at: number | null;
  batches: number;
  changes: number;
  last_delivery_at: number | null;
  /** Parked on a receiver behind what the history holds: that destination, what it applied, the oldest LSN held. */
  gap_destination: string | null;
  gap_applied: number | null;
  gap_floor: number | null;
};

/** Columns later versions added to `_dosql_forwards` (added to older tables on wake). */
const ADDED = [
  ["gap_destination", "TEXT"],
  ["gap_applied", "INTEGER"],
  ["gap_floor", "INTEGER"],
] as const;

/** The subscriber id of a forward in history's durable subscribers. */
export const subscriberId = (name: string): string => `forward:${name}`;

export class ForwardState {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  create(): void {
    for (const statement of DDL) this.#sql.exec(statement);
    addMissingColumns(this.#sql, FORWARDS, ADDED);
    this.#sql.exec(`INSERT INTO ${EPOCH} (id, epoch) VALUES (1, ?) ON CONFLICT (id) DO NOTHING`, Date.now());
  }

  /**
   * When this actor's storage began (epoch ms, set once). A destroyed actor that is written again
   * starts its LSNs over at 1 with a later epoch, so a receiver can tell it from a redelivery.
   */
  epoch(): number {
    return this.#sql.exec<{ epoch: number }>(`SELECT epoch FROM ${EPOCH}`).one().epoch;
  }

  ensure(name: string): void {
    this.#sql.exec(`INSERT INTO ${FORWARDS} (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, name);
  }

  /** Forget forwards no longer configured; returns their names. */
  dropOthers(keep: readonly string[]): string[] {
    const gone = this.#sql
      .exec<{ name: string }>(`SELECT name FROM ${FORWARDS}`)
      .toArray()
      .map((r) => r.name)
      .filter((n) => !keep.includes(n));
    for (const name of gone) {
      this.#sql.exec(`DELETE FROM ${FORWARDS} WHERE name = ?`, name);
      this.#sql.exec(`DELETE FROM ${SENT} WHERE forward = ?`, name);
    }
    return gone;
  }

  get(name: string): ForwardRow {
    return this.#sql.exec<ForwardRow>(`SELECT * FROM ${FORWARDS} WHERE name = ?`, name).one();
  }

  sentTo(name: string, destination: string): number {
    const row = this.#sql
      .exec<{ sent_to: number }>(
        `SELECT sent_to FROM ${SENT} WHERE forward = ? AND destination = ?`,
        name,
        destination,
      )
      .toArray()[0];
    return row?.sent_to ?? 0;
  }

  markSent(name: string, destination: string, to: number): void {
    this.#sql.exec(
      `INSERT INTO ${SENT} (forward, destination, sent_to) VALUES (?, ?, ?)
       ON CONFLICT (forward, destination) DO UPDATE SET sent_to = max(sent_to, excluded.sent_to)`,
      name,
      destination,
      to,
    );
  }

  /** A destination that has applied less than it accepted (restored from a backup): send again after `to`. */
  rewindSent(name: string, destination: string, to: number): void {
    this.#sql.exec(
      `INSERT INTO ${SENT} (forward, destination, sent_to) VALUES (?, ?, ?)
       ON CONFLICT (forward, destination) DO UPDATE SET sent_to = excluded.sent_to`,
      name,
      destination,
      to,
    );
  }

  /** Park at once: `destination` has applied only `applied`, and the history holds from `floor` on. */
  parkGap(
    name: string,
    error: string,
    destination: string,
    applied: number,
    floor: number,
    now: number,
  ): void {
    this.#sql.exec(
      `UPDATE ${FORWARDS} SET state = 'parked', parked_at = ?, failures = failures + 1, last_error = ?,
         next_attempt_at = NULL, gap_destination = ?, gap_applied = ?, gap_floor = ? WHERE name = ?`,
      now,
      error,
      destination,
      applied,
      floor,
      name,
    );
  }

  delivered(name: string, changes: number, now: number): void {
    this.#sql.exec(
      `UPDATE ${FORWARDS} SET failures = 0, last_error = NULL, next_attempt_at = NULL, batches = batches + 1,
         changes = changes + ?, last_delivery_at = ? WHERE name = ?`,
      changes,
      now,
      name,
    );
  }

  failed(name: string, error: string, nextAttemptAt: number | null, now: number): ForwardRow {
    return this.#sql
      .exec<ForwardRow>(
        `UPDATE ${FORWARDS} SET failures = failures + 1, last_error = ?, next_attempt_at = ?,
           state = CASE WHEN ? IS NULL THEN 'parked' ELSE state END,
           parked_at = CASE WHEN ? IS NULL THEN ? ELSE parked_at END
         WHERE name = ? RETURNING *`,
        error,
        nextAttemptAt,
        nextAttemptAt,
        nextAttemptAt,
        now,
        name,
      )
      .one();
  }

  resume(name: string): void {
    this.#sql.exec(
      `UPDATE ${FORWARDS} SET state = 'active', failures = 0, next_attempt_at = NULL, parked_at = NULL,
         gap_destination = NULL, gap_applied = NULL, gap_floor = NULL WHERE name = ?`,
      name,
    );
  }
}
