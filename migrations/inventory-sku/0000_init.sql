CREATE TABLE `inventory` (
	`sku` text PRIMARY KEY NOT NULL,
	`product_name` text NOT NULL,
	`available` integer DEFAULT 0 NOT NULL,
	`reserved` integer DEFAULT 0 NOT NULL,
	`sold` integer DEFAULT 0 NOT NULL,
	`restocked` integer DEFAULT 0 NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "inventory_available_not_negative" CHECK("inventory"."available" >= 0),
	CONSTRAINT "inventory_reserved_not_negative" CHECK("inventory"."reserved" >= 0),
	CONSTRAINT "inventory_sold_not_negative" CHECK("inventory"."sold" >= 0),
	CONSTRAINT "inventory_conserved" CHECK("inventory"."available" + "inventory"."reserved" + "inventory"."sold" = "inventory"."restocked")
);
--> statement-breakpoint
CREATE TABLE `inventory_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
	CONSTRAINT "inventory_log_operation_known" CHECK("inventory_log"."operation" IN ('RESERVE', 'CONFIRM', 'RELEASE', 'EXPIRE', 'RESTOCK', 'ADJUST'))
);
--> statement-breakpoint
CREATE TABLE `reservations` (
	`id` text PRIMARY KEY NOT NULL,
	`quantity` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`confirmed_at` text,
	`released_at` text,
	`release_reason` text,
	CONSTRAINT "reservations_quantity_positive" CHECK("reservations"."quantity" > 0),
	CONSTRAINT "reservations_status_known" CHECK("reservations"."status" IN ('PENDING', 'CONFIRMED', 'EXPIRED', 'RELEASED'))
);
--> statement-breakpoint
CREATE INDEX `idx_reservations_pending_expiry` ON `reservations` (`expires_at`) WHERE status = 'PENDING';