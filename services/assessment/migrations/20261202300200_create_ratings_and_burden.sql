-- Events assessment applied that are not the grid's task events: its own
-- department ratings now, the membership and centres contract events next.
-- Like grid_events, metrics are a projection of them.
CREATE TABLE other_events (
    event_id     UUID        PRIMARY KEY,
    -- "assessment", "membership", "centres".
    source       TEXT        NOT NULL,
    routing_key  TEXT        NOT NULL,
    aggregate_id TEXT        NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    payload      BYTEA       NOT NULL,
    applied_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX other_events_aggregate_idx ON other_events (aggregate_id);

-- Every stored event, for ExplainMetric whatever produced it.
CREATE VIEW stored_events AS
    SELECT event_id, routing_key, aggregate_id, aggregate_version, occurred_at FROM grid_events
    UNION ALL
    SELECT event_id, routing_key, aggregate_id, 0::bigint, occurred_at FROM other_events;

-- Two-way assessment: one rating per department per task.
CREATE TABLE department_ratings (
    task        TEXT        NOT NULL,
    department  TEXT        NOT NULL,
    grade       TEXT        NOT NULL CHECK (grade IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    comment     TEXT        NOT NULL,
    rater       TEXT        NOT NULL,
    event_id    UUID        NOT NULL REFERENCES other_events (event_id),
    -- When the task was reported: the periods the rating counts in, as
    -- the task's own metrics do.
    reported_at TIMESTAMPTZ NOT NULL,
    create_time TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (task, department)
);

-- The community-work whitelist (准入清单).
CREATE TABLE whitelist_items (
    id                 TEXT        PRIMARY KEY,
    display_name       TEXT        NOT NULL,
    legal_basis        TEXT        NOT NULL,
    department         TEXT        NOT NULL,
    yearly_funds       BIGINT      NOT NULL CHECK (yearly_funds >= 0),
    working_conditions TEXT        NOT NULL,
    valid_from         DATE        NOT NULL,
    valid_until        DATE        NOT NULL CHECK (valid_until >= valid_from),
    create_time        TIMESTAMPTZ NOT NULL
);

-- Every work request, accepted or refused: refusals count against the
-- department in the burden report.
CREATE TABLE work_requests (
    id             UUID        PRIMARY KEY,
    department     TEXT        NOT NULL,
    community      TEXT        NOT NULL,
    whitelist_item TEXT        NOT NULL,
    description    TEXT        NOT NULL,
    accepted       BOOLEAN     NOT NULL,
    missing        TEXT[]      NOT NULL,
    -- The year (Asia/Shanghai) it counts in.
    year           INTEGER     NOT NULL,
    create_time    TIMESTAMPTZ NOT NULL
);

CREATE INDEX work_requests_community_idx ON work_requests (community, year);

CREATE TABLE campaign_quotas (
    department TEXT    NOT NULL,
    year       INTEGER NOT NULL,
    quota      INTEGER NOT NULL CHECK (quota >= 0),
    PRIMARY KEY (department, year)
);

CREATE TABLE campaigns (
    id           UUID        PRIMARY KEY,
    department   TEXT        NOT NULL,
    kind         TEXT        NOT NULL,
    display_name TEXT        NOT NULL,
    year         INTEGER     NOT NULL,
    communities  TEXT[]      NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL
);

CREATE INDEX campaigns_department_idx ON campaigns (department, year);
