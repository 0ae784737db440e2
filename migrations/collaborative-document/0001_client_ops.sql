CREATE TABLE `client_ops` (
	`user_id` text NOT NULL,
	`op_id` text NOT NULL,
	`answer` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `op_id`)
);
