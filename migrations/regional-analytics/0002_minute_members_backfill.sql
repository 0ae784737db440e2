-- Every minute bucket's counted sessions and users, from the raw events kept so far (what the
-- unique checks read from raw_events before 0001): a bucket's later events are then counted
-- exactly as they were, each session and user once per bucket.
INSERT INTO `minute_members` (`minute`, `event_type`, `page_path`, `kind`, `member`)
SELECT DISTINCT `minute`, `event_type`, `page_path`, 'session', `session_id` FROM `raw_events` WHERE true
ON CONFLICT DO NOTHING;--> statement-breakpoint
INSERT INTO `minute_members` (`minute`, `event_type`, `page_path`, `kind`, `member`)
SELECT DISTINCT `minute`, `event_type`, `page_path`, 'user', `user_hash` FROM `raw_events` WHERE `user_hash` IS NOT NULL
ON CONFLICT DO NOTHING;
