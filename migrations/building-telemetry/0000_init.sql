CREATE TABLE `active_alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` integer NOT NULL,
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`trigger_value` real NOT NULL,
	`threshold_value` real NOT NULL,
	`severity` text NOT NULL,
	`status` text DEFAULT 'ACTIVE' NOT NULL,
	`triggered_at` integer NOT NULL,
	`acknowledged_at` integer,
	`acknowledged_by` text,
	`resolved_at` integer,
	`resolved_reason` text,
	FOREIGN KEY (`rule_id`) REFERENCES `alert_rules`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "active_alerts_status_known" CHECK("active_alerts"."status" IN ('ACTIVE', 'ACKNOWLEDGED', 'RESOLVED'))
);
--> statement-breakpoint
CREATE INDEX `idx_alerts_status` ON `active_alerts` (`status`);--> statement-breakpoint
CREATE INDEX `idx_alerts_rule_sensor` ON `active_alerts` (`rule_id`,`sensor_id`);--> statement-breakpoint
CREATE TABLE `alert_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`rule_id` integer NOT NULL,
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`severity` text NOT NULL,
	`trigger_value` real NOT NULL,
	`duration_seconds` integer,
	`triggered_at` integer NOT NULL,
	`acknowledged_at` integer,
	`acknowledged_by` text,
	`resolved_at` integer,
	`resolved_reason` text
);
--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sensor_id` text,
	`sensor_type` text NOT NULL,
	`condition` text NOT NULL,
	`threshold_value` real,
	`threshold_min` real,
	`threshold_max` real,
	`severity` text NOT NULL,
	`cooldown_seconds` integer DEFAULT 300 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "alert_rules_condition_known" CHECK("alert_rules"."condition" IN ('gt', 'gte', 'lt', 'lte', 'eq', 'neq', 'range_outside')),
	CONSTRAINT "alert_rules_severity_known" CHECK("alert_rules"."severity" IN ('info', 'warning', 'critical')),
	CONSTRAINT "alert_rules_thresholds" CHECK(("alert_rules"."condition" = 'range_outside' AND "alert_rules"."threshold_min" IS NOT NULL AND "alert_rules"."threshold_max" IS NOT NULL AND "alert_rules"."threshold_min" <= "alert_rules"."threshold_max") OR ("alert_rules"."condition" <> 'range_outside' AND "alert_rules"."threshold_value" IS NOT NULL))
);
--> statement-breakpoint
CREATE TABLE `building` (
	`name` text PRIMARY KEY NOT NULL,
	`created_at` integer NOT NULL,
	`raw_retention_ms` integer NOT NULL,
	`minute_retention_ms` integer NOT NULL,
	`hourly_retention_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hourly_aggregates` (
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`hour` integer NOT NULL,
	`min_value` real NOT NULL,
	`max_value` real NOT NULL,
	`avg_value` real NOT NULL,
	`sum_value` real NOT NULL,
	`reading_count` integer NOT NULL,
	PRIMARY KEY(`sensor_id`, `hour`)
);
--> statement-breakpoint
CREATE INDEX `idx_hourly_hour` ON `hourly_aggregates` (`hour`);--> statement-breakpoint
CREATE TABLE `minute_aggregates` (
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`minute` integer NOT NULL,
	`min_value` real NOT NULL,
	`max_value` real NOT NULL,
	`sum_value` real NOT NULL,
	`count` integer NOT NULL,
	`avg_quality` real NOT NULL,
	`rolled_sum` real DEFAULT 0 NOT NULL,
	`rolled_count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`sensor_id`, `minute`)
);
--> statement-breakpoint
CREATE INDEX `idx_minute_minute` ON `minute_aggregates` (`minute`);--> statement-breakpoint
CREATE TABLE `readings` (
	`id` integer PRIMARY KEY NOT NULL,
	`sensor_id` text NOT NULL,
	`sensor_type` text NOT NULL,
	`value` real NOT NULL,
	`unit` text NOT NULL,
	`quality` integer NOT NULL,
	`ts` integer NOT NULL,
	`received_at` integer NOT NULL,
	CONSTRAINT "readings_type_known" CHECK("readings"."sensor_type" IN ('temperature', 'humidity', 'co2', 'occupancy', 'power', 'water')),
	CONSTRAINT "readings_quality_range" CHECK("readings"."quality" BETWEEN 0 AND 100)
);
--> statement-breakpoint
CREATE INDEX `idx_readings_ts` ON `readings` (`ts`);--> statement-breakpoint
CREATE INDEX `idx_readings_sensor` ON `readings` (`sensor_id`,`ts`);--> statement-breakpoint
CREATE TABLE `rollup_pending` (
	`hour` integer PRIMARY KEY NOT NULL
);
