CREATE TABLE `activity` (
	`board` text NOT NULL,
	`task_id` text NOT NULL,
	`title` text NOT NULL,
	`done` integer NOT NULL,
	PRIMARY KEY(`board`, `task_id`)
);
