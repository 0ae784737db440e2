CREATE TABLE `blocks` (
	`id` text PRIMARY KEY NOT NULL,
	`parent_id` text,
	`type` text NOT NULL,
	`content` text,
	`properties` text,
	`position` real NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`parent_id`) REFERENCES `blocks`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "blocks_type_known" CHECK("blocks"."type" IN ('paragraph', 'heading', 'list', 'code', 'image', 'table'))
);
--> statement-breakpoint
CREATE INDEX `idx_blocks_parent_position` ON `blocks` (`parent_id`,`position`);--> statement-breakpoint
CREATE TABLE `documents` (
	`id` text PRIMARY KEY NOT NULL,
	`title` text DEFAULT 'Untitled' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `operations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` text NOT NULL,
	`block_id` text,
	`kind` text NOT NULL,
	`op_type` text,
	`op_data` text NOT NULL,
	`before_state` text,
	`after_state` text,
	`ref_id` integer,
	`state` text,
	`undone_by` integer,
	`timestamp` integer NOT NULL,
	`lsn` integer NOT NULL,
	CONSTRAINT "operations_kind_known" CHECK("operations"."kind" IN ('edit', 'undo', 'redo', 'restore', 'merge')),
	CONSTRAINT "operations_op_type_known" CHECK("operations"."op_type" IS NULL OR "operations"."op_type" IN ('insert', 'update', 'delete', 'move'))
);
--> statement-breakpoint
CREATE INDEX `idx_operations_block` ON `operations` (`block_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_operations_lsn` ON `operations` (`lsn`);--> statement-breakpoint
CREATE INDEX `idx_operations_user_state` ON `operations` (`user_id`,`state`,`id`);--> statement-breakpoint
CREATE TABLE `permissions` (
	`user_id` text PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`granted_by` text NOT NULL,
	`granted_at` integer NOT NULL,
	CONSTRAINT "permissions_role_known" CHECK("permissions"."role" IN ('viewer', 'editor', 'admin'))
);
--> statement-breakpoint
CREATE TABLE `presence` (
	`user_id` text PRIMARY KEY NOT NULL,
	`user_name` text NOT NULL,
	`cursor_block_id` text,
	`cursor_offset` integer,
	`selection` text,
	`last_seen` integer NOT NULL
);
