// The statements `ingest` runs: one per event (RAW) or one per batch (RAWS), plain strings (the
// bench's hand-written baseline and its node:sqlite floor run these same texts). The figures of
// each raw event (its minute bucket, the bucket's counted sessions and users in minute_members,
// its session) are kept by SQLite as the row is inserted: the trigger `raw_events_counts` of
// migrations/regional-analytics/0003_raw_events_counts.sql runs, row by row, what ingest ran as
// three more statements per event (and three set-based ones per batch) before. In a Durable
// Object each statement crosses from JavaScript into the runtime, and that crossing cost more
// than the statements' work.

/** The raw event, PII included. */
export const RAW = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// A batch is bound as one JSON array (parameter ?1) of event rows, the fields in the order of
// `eventRow` below; nothing of an event is ever spliced into the text. The array is read as JSONB
// (jsonb_each(jsonb(?1))): a row's fields are then read without parsing its text again (3x cheaper
// than json_each on node:sqlite). Its rows are inserted in the batch's order, so the trigger
// counts them exactly as the same events inserted one by one.

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

/** Every raw event of the batch, in its order. Parameters: the batch JSON, ingested_at. */
export const RAWS = `INSERT INTO raw_events (session_id, user_id, user_hash, ip_address, user_agent, event_type, event_data,
  page_url, page_path, referrer, timestamp, minute, ingested_at)
  SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9,
    value->>10, value->>11, ?2 FROM jsonb_each(jsonb(?1)) WHERE true ORDER BY key`;
