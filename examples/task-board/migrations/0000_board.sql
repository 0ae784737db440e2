CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text NOT NULL,
	`done` integer DEFAULT 0 NOT NULL,
	`due_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `overdue_runs` (
	`at` integer PRIMARY KEY NOT NULL,
	`overdue` integer NOT NULL
);
