ALTER TABLE `tasks` ADD `done_at` integer;--> statement-breakpoint
CREATE INDEX `idx_tasks_done_at` ON `tasks` (`done_at`);