CREATE TABLE `order_header` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`status` text DEFAULT 'PENDING' NOT NULL,
	`subtotal` integer NOT NULL,
	`tax` integer DEFAULT 0 NOT NULL,
	`shipping` integer DEFAULT 0 NOT NULL,
	`total` integer NOT NULL,
	`shipping_address` text,
	`billing_address` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "order_header_status_known" CHECK("order_header"."status" IN ('PENDING', 'RESERVED', 'PAYMENT_PENDING', 'PAID', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
	CONSTRAINT "order_header_total" CHECK("order_header"."total" = "order_header"."subtotal" + "order_header"."tax" + "order_header"."shipping")
);
--> statement-breakpoint
CREATE TABLE `order_lines` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` text NOT NULL,
	`sku` text NOT NULL,
	`product_name` text NOT NULL,
	`quantity` integer NOT NULL,
	`unit_price` integer NOT NULL,
	`line_total` integer NOT NULL,
	`reservation_id` text,
	`reservation_status` text DEFAULT 'PENDING' NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `order_header`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "order_lines_quantity_positive" CHECK("order_lines"."quantity" > 0),
	CONSTRAINT "order_lines_total" CHECK("order_lines"."line_total" = "order_lines"."quantity" * "order_lines"."unit_price"),
	CONSTRAINT "order_lines_reservation_status_known" CHECK("order_lines"."reservation_status" IN ('PENDING', 'RESERVED', 'CONFIRMED', 'RELEASED', 'FAILED'))
);
--> statement-breakpoint
CREATE INDEX `idx_order_lines_order` ON `order_lines` (`order_id`);--> statement-breakpoint
CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_id` text,
	`amount` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`completed_at` text,
	FOREIGN KEY (`order_id`) REFERENCES `order_header`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "payments_status_known" CHECK("payments"."status" IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED')),
	CONSTRAINT "payments_amount_not_negative" CHECK("payments"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE `status_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`reason` text,
	`actor` text,
	`details` text,
	`timestamp` text NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `order_header`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `idx_status_log_order` ON `status_log` (`order_id`);