-- What a fact adds to its count: 1 for counts, the minutes for sums such
-- as volunteer minutes (centres' check-ins).
ALTER TABLE metric_facts ADD COLUMN amount BIGINT NOT NULL DEFAULT 1 CHECK (amount > 0);
