// The three statements `ingest` runs per event, in this order (plain strings: the bench's
// hand-written baseline and its node:sqlite floor run these same texts).

/**
 * The event's minute bucket (minute, event type, page path): one more event, and one more session
 * (user) when no earlier event of the bucket has it, checked against raw_events before the
 * event's own row is there. Parameters: minute, type, path, session, minute, type, path, hash,
 * hash, minute, type, path.
 */
export const BUCKET = `INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  VALUES (?, ?, ?, 1,
    NOT EXISTS (SELECT 1 FROM raw_events WHERE session_id = ? AND minute = ? AND event_type = ? AND page_path = ?),
    CASE WHEN ? IS NULL THEN 0 ELSE NOT EXISTS (SELECT 1 FROM raw_events WHERE user_hash = ? AND minute = ? AND event_type = ? AND page_path = ?) END)
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + 1,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;
/** The raw event, PII included. */
export const RAW = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** The session: first and last seen, events, page views, its user hash (the latest non-null one). */
export const SESSION = `INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + 1, pages_viewed = pages_viewed + excluded.pages_viewed`;
