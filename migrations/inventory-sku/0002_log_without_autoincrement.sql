PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_inventory_log` (
	`id` integer PRIMARY KEY NOT NULL,
	`operation` text NOT NULL,
	`quantity` integer NOT NULL,
	`reference_id` text,
	`available_before` integer NOT NULL,
	`available_after` integer NOT NULL,
	`reserved_before` integer NOT NULL,
	`reserved_after` integer NOT NULL,
	`sold_before` integer NOT NULL,
	`sold_after` integer NOT NULL,
	`reason` text,
	`timestamp` text NOT NULL,
	CONSTRAINT "inventory_log_operation_known" CHECK("__new_inventory_log"."operation" IN ('RESERVE', 'CONFIRM', 'RELEASE', 'EXPIRE', 'RESTOCK', 'ADJUST'))
);
--> statement-breakpoint
INSERT INTO `__new_inventory_log`("id", "operation", "quantity", "reference_id", "available_before", "available_after", "reserved_before", "reserved_after", "sold_before", "sold_after", "reason", "timestamp") SELECT "id", "operation", "quantity", "reference_id", "available_before", "available_after", "reserved_before", "reserved_after", "sold_before", "sold_after", "reason", "timestamp" FROM `inventory_log`;--> statement-breakpoint
DROP TABLE `inventory_log`;--> statement-breakpoint
ALTER TABLE `__new_inventory_log` RENAME TO `inventory_log`;--> statement-breakpoint
PRAGMA foreign_keys=ON;