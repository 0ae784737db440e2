CREATE TABLE `building_rollups` (
	`building` text NOT NULL,
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`hour` integer NOT NULL,
	`min_value` real NOT NULL,
	`max_value` real NOT NULL,
	`sum_value` real NOT NULL,
	`reading_count` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`building`, `sensor_id`, `hour`)
);
--> statement-breakpoint
CREATE INDEX `idx_rollups_hour` ON `building_rollups` (`hour`,`sensor_type`);