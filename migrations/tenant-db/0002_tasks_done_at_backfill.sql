-- Tasks already done when done_at arrived: done since their last update at the latest (updated_at
-- is ISO-8601 UTC text; julianday reads it, 2440587.5 is the Unix epoch's Julian day).
UPDATE `tasks` SET `done_at` = CAST(round((julianday(`updated_at`) - 2440587.5) * 86400000) AS INTEGER)
WHERE `status` = 'done' AND `done_at` IS NULL AND julianday(`updated_at`) IS NOT NULL;
