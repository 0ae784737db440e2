-- The figures of each raw event, kept by SQLite as the row is inserted (one statement per event
-- or per batch from the actor instead of four: in a Durable Object every statement crosses from
-- JavaScript into the runtime, and that crossing cost more than the statements' work). In the
-- order the actor ran them before: the minute bucket (one more event; one more session or user
-- when the bucket has not counted it: no minute_members row yet), then the bucket's members, then
-- the session (first and last seen, events, page views, its latest non-null user hash). A batch
-- inserted in its order leaves exactly what its events inserted one by one leave.
CREATE TRIGGER `raw_events_counts` AFTER INSERT ON `raw_events` BEGIN
  INSERT INTO `minute_aggregates` (`minute`, `event_type`, `page_path`, `event_count`, `unique_sessions`, `unique_users`)
  VALUES (NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 1,
    NOT EXISTS (SELECT 1 FROM `minute_members` WHERE `minute` = NEW.`minute` AND `event_type` = NEW.`event_type`
      AND `page_path` = NEW.`page_path` AND `kind` = 'session' AND `member` = NEW.`session_id`),
    NEW.`user_hash` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM `minute_members` WHERE `minute` = NEW.`minute`
      AND `event_type` = NEW.`event_type` AND `page_path` = NEW.`page_path` AND `kind` = 'user' AND `member` = NEW.`user_hash`))
  ON CONFLICT (`minute`, `event_type`, `page_path`) DO UPDATE SET `event_count` = `event_count` + 1,
    `unique_sessions` = `unique_sessions` + excluded.`unique_sessions`, `unique_users` = `unique_users` + excluded.`unique_users`;
  INSERT INTO `minute_members` (`minute`, `event_type`, `page_path`, `kind`, `member`)
  SELECT NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 'session', NEW.`session_id`
  UNION ALL SELECT NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 'user', NEW.`user_hash` WHERE NEW.`user_hash` IS NOT NULL
  ON CONFLICT DO NOTHING;
  INSERT INTO `active_sessions` (`session_id`, `user_hash`, `first_seen`, `last_seen`, `event_count`, `pages_viewed`)
  VALUES (NEW.`session_id`, NEW.`user_hash`, NEW.`timestamp`, NEW.`timestamp`, 1, NEW.`event_type` = 'page_view')
  ON CONFLICT (`session_id`) DO UPDATE SET `user_hash` = coalesce(excluded.`user_hash`, `user_hash`),
    `first_seen` = min(`first_seen`, excluded.`first_seen`), `last_seen` = max(`last_seen`, excluded.`last_seen`),
    `event_count` = `event_count` + 1, `pages_viewed` = `pages_viewed` + excluded.`pages_viewed`;
END;
