-- Level metrics (domain::levels): per event of centres.coverage.changed /
-- centres.compliance.changed, the state it publishes for its key (a
-- community, a centre). Reads take, per key and metric, the row with the
-- highest version that occurred before the period's end; nothing is summed
-- into metric_values, because a level carries over into every later period.
CREATE TABLE metric_levels (
    -- The group of stored events it is recomputed with: "other/{group}".
    group_key   TEXT        NOT NULL,
    -- Whose latest state counts: "cells/{community}" or "centres/{id}".
    key         TEXT        NOT NULL,
    -- The cell credited.
    subject     TEXT        NOT NULL,
    metric      TEXT        NOT NULL,
    version     BIGINT      NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    event_id    UUID        NOT NULL,
    -- 0 is a value too: a later 0 replaces an earlier 1.
    amount      BIGINT      NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (event_id, metric)
);

CREATE INDEX metric_levels_latest_idx ON metric_levels (key, metric, version DESC, event_id DESC);
CREATE INDEX metric_levels_group_idx ON metric_levels (group_key);
