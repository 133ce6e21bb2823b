-- applied_at is read as "when the metric changed" (the consumer lag the
-- bench reports): the statement's clock time, not the transaction's start
-- (now()), which would hide the time the consumer spent before storing.
ALTER TABLE grid_events ALTER COLUMN applied_at SET DEFAULT clock_timestamp();
ALTER TABLE other_events ALTER COLUMN applied_at SET DEFAULT clock_timestamp();
