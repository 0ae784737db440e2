CREATE TABLE `minute_members` (
	`minute` text NOT NULL,
	`event_type` text NOT NULL,
	`page_path` text NOT NULL,
	`kind` text NOT NULL,
	`member` text NOT NULL,
	PRIMARY KEY(`minute`, `event_type`, `page_path`, `kind`, `member`)
);
--> statement-breakpoint
DROP INDEX `idx_raw_events_session_minute`;--> statement-breakpoint
DROP INDEX `idx_raw_events_user_minute`;