// The statements InventorySKU runs, as plain strings: the bench's hand-written baseline
// (bench/actors/inventory.ts) and its node:sqlite floor (bench/baselines/raw-sqlite.mjs) run these
// same texts, so a ratio compares code paths, not SQL.

/** A SKU's row, created by its first restock (sku, product name, time). */
export const CREATE_SKU =
  "INSERT INTO inventory (sku, product_name, available, reserved, sold, restocked, updated_at) VALUES (?, ?, 0, 0, 0, 0, ?)";
/** Current figures and the number of pending reservations. */
export const STATUS = `SELECT sku, product_name AS productName, available, reserved, sold, restocked, updated_at AS updatedAt,
  (SELECT count(*) FROM reservations WHERE status = 'PENDING') AS pendingReservations
  FROM inventory`;
/** The figures and, when the order id (the one parameter) has one, its reservation. */
export const SNAPSHOT = `SELECT i.available, i.reserved, i.sold, i.product_name AS productName,
  r.quantity AS rQuantity, r.status AS rStatus, r.expires_at AS rExpiresAt, r.owner_key AS rOwnerKey
  FROM inventory i LEFT JOIN reservations r ON r.id = ?`;
/** Add to the figures (available, reserved, sold, restocked deltas; time). */
export const CHANGE_FIGURES = `UPDATE inventory SET available = available + ?, reserved = reserved + ?,
  sold = sold + ?, restocked = restocked + ?, updated_at = ?`;
/** One audit row: operation, quantity, reference, the figures before and after, reason, time. */
export const LOG = `INSERT INTO inventory_log (operation, quantity, reference_id, available_before, available_after,
  reserved_before, reserved_after, sold_before, sold_after, reason, timestamp)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** A pending reservation: order id, quantity, created, expires, owner key (or null). */
export const INSERT_RESERVATION = `INSERT INTO reservations (id, quantity, status, created_at, expires_at, owner_key)
  VALUES (?, ?, 'PENDING', ?, ?, ?)`;
/** A reservation's new status: status, confirmed at, released at, reason, order id. */
export const SET_RESERVATION_STATUS = `UPDATE reservations SET status = ?, confirmed_at = ?, released_at = ?,
  release_reason = ? WHERE id = ?`;
/**
 * The common reserve in one statement: hold the stock when there is enough and the order has no
 * reservation yet. Anything else (no SKU, not enough, a reservation to expire, repeat or refuse)
 * finds no row and takes the full path through SNAPSHOT. Numbered parameters: each value is bound
 * once (?1 quantity, ?2 time, ?3 order id).
 */
export const HOLD = `UPDATE inventory SET available = available - ?1, reserved = reserved + ?1, updated_at = ?2
  WHERE available >= ?1 AND NOT EXISTS (SELECT 1 FROM reservations WHERE id = ?3)
  RETURNING product_name AS productName`;
/**
 * The log row of a HOLD, in the same transaction just after it: the figures after are the row as
 * HOLD left it, the figures before differ by the quantity (?1 quantity, ?2 order id, ?3 time).
 */
export const LOG_HOLD = `INSERT INTO inventory_log (operation, quantity, reference_id, available_before, available_after,
  reserved_before, reserved_after, sold_before, sold_after, reason, timestamp)
  SELECT 'RESERVE', ?1, ?2, available + ?1, available, reserved - ?1, reserved, sold, sold, NULL, ?3 FROM inventory`;
