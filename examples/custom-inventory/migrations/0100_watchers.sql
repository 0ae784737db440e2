-- Who wants to hear when this SKU is back in stock (one row per user).
CREATE TABLE `watchers` (
	`user_id` text PRIMARY KEY NOT NULL,
	`since` text NOT NULL
);
