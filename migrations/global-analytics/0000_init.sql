CREATE TABLE `regional_rollups` (
	`region` text NOT NULL,
	`date` text NOT NULL,
	`event_type` text NOT NULL,
	`total_events` integer NOT NULL,
	`unique_sessions` integer NOT NULL,
	`unique_users` integer NOT NULL,
	`source_lsn` integer NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`region`, `date`, `event_type`)
);
--> statement-breakpoint
CREATE INDEX `idx_regional_rollups_date` ON `regional_rollups` (`date`,`event_type`);