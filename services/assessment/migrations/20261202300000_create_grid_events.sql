-- Every grid event assessment applied (grid.task.*, grid.supervision.*),
-- as received: metrics are a projection of this table and can be rebuilt
-- from it (RebuildMetrics).
CREATE TABLE grid_events (
    event_id          UUID        PRIMARY KEY,
    routing_key       TEXT        NOT NULL,
    -- "tasks/{id}": task and supervision events both name the task.
    aggregate_id      TEXT        NOT NULL,
    aggregate_version BIGINT      NOT NULL,
    occurred_at       TIMESTAMPTZ NOT NULL,
    -- The producer's log position, NULL while the inbound event does not
    -- carry it to the handler.
    position          BIGINT,
    payload           BYTEA       NOT NULL,
    applied_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX grid_events_aggregate_idx ON grid_events (aggregate_id, aggregate_version);

-- One count of one metric for one subject, and the event behind it: what
-- ExplainMetric lists. Replaced per task whenever one of its events arrives.
CREATE TABLE metric_facts (
    task        TEXT        NOT NULL,
    -- "cells/{id}" or "departments/{id}".
    subject     TEXT        NOT NULL,
    metric      TEXT        NOT NULL,
    event_id    UUID        NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    -- The month, quarter and year of reported_at in Asia/Shanghai.
    periods     TEXT[]      NOT NULL,
    PRIMARY KEY (task, subject, metric, event_id)
);

CREATE INDEX metric_facts_subject_idx ON metric_facts (subject, metric);

-- The counts, maintained incrementally from metric_facts' changes; rows
-- that fall to zero are removed, so a rebuild leaves the same rows.
CREATE TABLE metric_values (
    subject TEXT   NOT NULL,
    period  TEXT   NOT NULL,
    metric  TEXT   NOT NULL,
    value   BIGINT NOT NULL CHECK (value >= 0),
    PRIMARY KEY (subject, period, metric)
);

CREATE INDEX metric_values_period_idx ON metric_values (period, subject);
