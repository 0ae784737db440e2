CREATE TABLE `operation_parts` (
	`op_id` integer NOT NULL,
	`side` text NOT NULL,
	`part` integer NOT NULL,
	`rows` text NOT NULL,
	PRIMARY KEY(`op_id`, `side`, `part`),
	FOREIGN KEY (`op_id`) REFERENCES `operations`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "operation_parts_side_known" CHECK("operation_parts"."side" IN ('before', 'after'))
);
