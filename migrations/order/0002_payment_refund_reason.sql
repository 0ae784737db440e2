PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_payments` (
	`id` text PRIMARY KEY NOT NULL,
	`order_id` text NOT NULL,
	`provider` text NOT NULL,
	`provider_id` text,
	`amount` integer NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`completed_at` text,
	`refund_reason` text,
	FOREIGN KEY (`order_id`) REFERENCES `order_header`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "payments_refund_reason_known" CHECK("__new_payments"."refund_reason" IS NULL OR "__new_payments"."refund_reason" IN ('ORDER_NOT_PAYABLE', 'AMOUNT_MISMATCH')),
	CONSTRAINT "payments_status_known" CHECK("__new_payments"."status" IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'REFUND_DUE')),
	CONSTRAINT "payments_amount_not_negative" CHECK("__new_payments"."amount" >= 0)
);
--> statement-breakpoint
INSERT INTO `__new_payments`("id", "order_id", "provider", "provider_id", "amount", "status", "created_at", "completed_at", "refund_reason") SELECT "id", "order_id", "provider", "provider_id", "amount", "status", "created_at", "completed_at", CASE WHEN "status" = 'REFUND_DUE' THEN 'ORDER_NOT_PAYABLE' END FROM `payments`;--> statement-breakpoint
DROP TABLE `payments`;--> statement-breakpoint
ALTER TABLE `__new_payments` RENAME TO `payments`;--> statement-breakpoint
PRAGMA foreign_keys=ON;