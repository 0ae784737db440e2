CREATE TABLE `active_sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`user_hash` text,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`event_count` integer DEFAULT 0 NOT NULL,
	`pages_viewed` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_active_sessions_last_seen` ON `active_sessions` (`last_seen`);--> statement-breakpoint
CREATE TABLE `analytics_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `daily_aggregates` (
	`date` text NOT NULL,
	`day_start` integer NOT NULL,
	`event_type` text NOT NULL,
	`page_path` text NOT NULL,
	`total_events` integer DEFAULT 0 NOT NULL,
	`unique_sessions` integer DEFAULT 0 NOT NULL,
	`unique_users` integer DEFAULT 0 NOT NULL,
	`avg_session_duration` real,
	PRIMARY KEY(`date`, `event_type`, `page_path`)
);
--> statement-breakpoint
CREATE INDEX `idx_daily_day_start` ON `daily_aggregates` (`day_start`);--> statement-breakpoint
CREATE TABLE `minute_aggregates` (
	`minute` text NOT NULL,
	`event_type` text NOT NULL,
	`page_path` text NOT NULL,
	`event_count` integer DEFAULT 0 NOT NULL,
	`unique_sessions` integer DEFAULT 0 NOT NULL,
	`unique_users` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`minute`, `event_type`, `page_path`)
);
--> statement-breakpoint
CREATE TABLE `raw_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`user_id` text,
	`user_hash` text,
	`ip_address` text,
	`user_agent` text,
	`event_type` text NOT NULL,
	`event_data` text,
	`page_url` text NOT NULL,
	`page_path` text NOT NULL,
	`referrer` text,
	`timestamp` integer NOT NULL,
	`minute` text NOT NULL,
	`ingested_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_raw_events_timestamp` ON `raw_events` (`timestamp`);--> statement-breakpoint
CREATE INDEX `idx_raw_events_session_minute` ON `raw_events` (`session_id`,`minute`);--> statement-breakpoint
CREATE INDEX `idx_raw_events_user_minute` ON `raw_events` (`user_hash`,`minute`) WHERE user_hash IS NOT NULL;--> statement-breakpoint
CREATE TABLE `region_rollups` (
	`date` text NOT NULL,
	`event_type` text NOT NULL,
	`total_events` integer NOT NULL,
	`unique_sessions` integer NOT NULL,
	`unique_users` integer NOT NULL,
	PRIMARY KEY(`date`, `event_type`)
);
