CREATE TABLE `archived_task_counts` (
	`file_key` text NOT NULL,
	`project_id` integer NOT NULL,
	`tasks` integer NOT NULL,
	PRIMARY KEY(`file_key`, `project_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_archived_task_counts_project` ON `archived_task_counts` (`project_id`);