// The four statements `ingest` runs per event, in this order (plain strings: the bench's
// hand-written baseline and its node:sqlite floor run these same texts).

/**
 * The event's minute bucket (minute, event type, page path): one more event, and one more session
 * (user) when the bucket has not counted it yet (no minute_members row), checked before MEMBER
 * adds the event's own. Parameters: ?1 minute, ?2 event type, ?3 page path, ?4 session id,
 * ?5 user hash (or null).
 */
export const BUCKET = `INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  VALUES (?1, ?2, ?3, 1,
    NOT EXISTS (SELECT 1 FROM minute_members WHERE minute = ?1 AND event_type = ?2 AND page_path = ?3 AND kind = 'session' AND member = ?4),
    ?5 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM minute_members WHERE minute = ?1 AND event_type = ?2 AND page_path = ?3 AND kind = 'user' AND member = ?5))
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + 1,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;
/** The bucket has counted the event's session (and user): the same parameters as BUCKET. */
export const MEMBER = `INSERT INTO minute_members (minute, event_type, page_path, kind, member)
  SELECT ?1, ?2, ?3, 'session', ?4 UNION ALL SELECT ?1, ?2, ?3, 'user', ?5 WHERE ?5 IS NOT NULL
  ON CONFLICT DO NOTHING`;
/** The raw event, PII included. */
export const RAW = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
/** The session: first and last seen, events, page views, its user hash (the latest non-null one). */
export const SESSION = `INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  VALUES (?, ?, ?, ?, 1, ?)
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + 1, pages_viewed = pages_viewed + excluded.pages_viewed`;

// The same figures for a batch, set-based: four statements per batch instead of four per event.
// Each reads the batch as one bound JSON array (parameter ?1) of event rows, the fields in the
// order of `eventRow` below; nothing of an event is ever spliced into the text. The array is read
// as JSONB (jsonb_each(jsonb(?1))): a row's fields are then read without parsing its text again
// (3x cheaper than json_each on node:sqlite). Run in this order: BUCKETS before MEMBERS (its unique
// checks read minute_members without the batch's own sessions and users).

/** Where each field of a batch row is (the row is built by `eventRow`). */
const F = { session: 0, hash: 2, type: 5, path: 8, at: 10, minute: 11 } as const;

/** One event as a row of the batch JSON (RAWS reads every field, in raw_events' column order). */
export function eventRow(
  sessionId: string,
  userId: string | null,
  userHash: string | null,
  ipAddress: string | null,
  userAgent: string | null,
  eventType: string,
  data: string | null,
  pageUrl: string,
  path: string,
  referrer: string | null,
  at: number,
  minute: string,
): unknown[] {
  // Lone surrogates need nothing: JSON.stringify escapes them and SQLite's JSON decodes the escape
  // into the bytes a bound string stores (checked by test/analytics-batch.test.ts).
  return [
    sessionId,
    userId,
    userHash,
    ipAddress,
    userAgent,
    eventType,
    data,
    pageUrl,
    path,
    referrer,
    at,
    minute,
  ];
}

const BATCH = `batch AS MATERIALIZED (SELECT key AS k, value->>${F.session} AS session_id, value->>${F.hash} AS user_hash,
    value->>${F.type} AS event_type, value->>${F.path} AS page_path, value->>${F.at} AS at, value->>${F.minute} AS minute
  FROM jsonb_each(jsonb(?1)))`;

/**
 * One upsert per minute bucket of the batch: its events, and its distinct sessions (users) that the
 * bucket has not counted yet. Parameters: the batch JSON.
 */
export const BUCKETS = `WITH ${BATCH}
  INSERT INTO minute_aggregates (minute, event_type, page_path, event_count, unique_sessions, unique_users)
  SELECT minute, event_type, page_path, count(*),
    count(DISTINCT session_id) FILTER (WHERE NOT EXISTS (SELECT 1 FROM minute_members m WHERE m.minute = batch.minute
      AND m.event_type = batch.event_type AND m.page_path = batch.page_path AND m.kind = 'session' AND m.member = batch.session_id)),
    count(DISTINCT user_hash) FILTER (WHERE NOT EXISTS (SELECT 1 FROM minute_members m WHERE m.minute = batch.minute
      AND m.event_type = batch.event_type AND m.page_path = batch.page_path AND m.kind = 'user' AND m.member = batch.user_hash))
  FROM batch WHERE true GROUP BY minute, event_type, page_path
  ON CONFLICT (minute, event_type, page_path) DO UPDATE SET event_count = event_count + excluded.event_count,
    unique_sessions = unique_sessions + excluded.unique_sessions, unique_users = unique_users + excluded.unique_users`;

/** Each bucket of the batch has counted its sessions and users (after BUCKETS). Parameters: the batch JSON. */
export const MEMBERS = `INSERT INTO minute_members (minute, event_type, page_path, kind, member)
  SELECT value->>${F.minute}, value->>${F.type}, value->>${F.path}, 'session', value->>${F.session} FROM jsonb_each(jsonb(?1))
  UNION ALL SELECT value->>${F.minute}, value->>${F.type}, value->>${F.path}, 'user', value->>${F.hash}
    FROM jsonb_each(jsonb(?1)) WHERE value->>${F.hash} IS NOT NULL
  ON CONFLICT DO NOTHING`;

/** Every raw event of the batch, in its order. Parameters: the batch JSON, ingested_at. */
export const RAWS = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, ?2 FROM jsonb_each(jsonb(?1)) WHERE true ORDER BY key`;

/**
 * One upsert per session of the batch: its events, page views, first and last time, and its
 * latest non-null user hash (the batch's last one, else the one kept): the greatest of
 * "row index, zero-padded, then hash" is the last row's (a batch holds at most 1,000 rows).
 * Parameters: the batch JSON.
 */
export const SESSIONS = `WITH ${BATCH}
  INSERT INTO active_sessions (session_id, user_hash, first_seen, last_seen, event_count, pages_viewed)
  SELECT session_id, substr(max(CASE WHEN user_hash IS NOT NULL THEN format('%08d', k) || user_hash END), 9),
    min(at), max(at), count(*), sum(event_type = 'page_view')
  FROM batch WHERE true GROUP BY session_id
  ON CONFLICT (session_id) DO UPDATE SET user_hash = coalesce(excluded.user_hash, user_hash),
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
    event_count = event_count + excluded.event_count, pages_viewed = pages_viewed + excluded.pages_viewed`;
