-- The same figures as 0003, with half the lookups in minute_members: each member is inserted
-- first (ON CONFLICT DO NOTHING), and `changes()` (inside a trigger: the rows changed by the
-- trigger's previous statement) says whether it was new, where 0003 first looked it up with NOT
-- EXISTS and then inserted it. A new session adds one to the bucket's unique_sessions as the
-- bucket's upsert counts the event; a new user adds one to unique_users in an update of the
-- bucket (no row is changed when the event has no user, or the user was counted already). In the
-- order 0003 ran them: the bucket, its members, then the session (first and last seen, events,
-- page views, its latest non-null user hash). A batch inserted in its order leaves exactly what its
-- events inserted one by one leave, and exactly what 0003 left (test/analytics-batch.test.ts).
DROP TRIGGER `raw_events_counts`;--> statement-breakpoint
CREATE TRIGGER `raw_events_counts` AFTER INSERT ON `raw_events` BEGIN
  INSERT INTO `minute_members` (`minute`, `event_type`, `page_path`, `kind`, `member`)
  VALUES (NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 'session', NEW.`session_id`)
  ON CONFLICT DO NOTHING;
  INSERT INTO `minute_aggregates` (`minute`, `event_type`, `page_path`, `event_count`, `unique_sessions`, `unique_users`)
  VALUES (NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 1, changes(), 0)
  ON CONFLICT (`minute`, `event_type`, `page_path`) DO UPDATE SET `event_count` = `event_count` + 1,
    `unique_sessions` = `unique_sessions` + excluded.`unique_sessions`;
  INSERT INTO `minute_members` (`minute`, `event_type`, `page_path`, `kind`, `member`)
  SELECT NEW.`minute`, NEW.`event_type`, NEW.`page_path`, 'user', NEW.`user_hash` WHERE NEW.`user_hash` IS NOT NULL
  ON CONFLICT DO NOTHING;
  UPDATE `minute_aggregates` SET `unique_users` = `unique_users` + 1
  WHERE changes() = 1 AND `minute` = NEW.`minute` AND `event_type` = NEW.`event_type` AND `page_path` = NEW.`page_path`;
  INSERT INTO `active_sessions` (`session_id`, `user_hash`, `first_seen`, `last_seen`, `event_count`, `pages_viewed`)
  VALUES (NEW.`session_id`, NEW.`user_hash`, NEW.`timestamp`, NEW.`timestamp`, 1, NEW.`event_type` = 'page_view')
  ON CONFLICT (`session_id`) DO UPDATE SET `user_hash` = coalesce(excluded.`user_hash`, `user_hash`),
    `first_seen` = min(`first_seen`, excluded.`first_seen`), `last_seen` = max(`last_seen`, excluded.`last_seen`),
    `event_count` = `event_count` + 1, `pages_viewed` = `pages_viewed` + excluded.`pages_viewed`;
END;
