ALTER TABLE `documents` ADD `log_retain_ms` integer;--> statement-breakpoint
ALTER TABLE `documents` ADD `log_max_entries` integer;--> statement-breakpoint
ALTER TABLE `documents` ADD `client_ops_retain_ms` integer;--> statement-breakpoint
ALTER TABLE `documents` ADD `log_floor_lsn` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `idx_client_ops_at` ON `client_ops` (`at`);