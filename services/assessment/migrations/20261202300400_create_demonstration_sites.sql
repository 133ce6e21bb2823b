-- Demonstration sites (示范点): nominated streets or communities, their
-- criteria as indicator thresholds of a scheme, and their stage.
CREATE TABLE demonstration_sites (
    id               TEXT        PRIMARY KEY,
    display_name     TEXT        NOT NULL,
    subject          TEXT        NOT NULL,
    scheme_id        TEXT        NOT NULL,
    level            TEXT        NOT NULL CHECK (level IN ('street', 'community')),
    -- The domain's JSON form of the criteria.
    criteria         JSONB       NOT NULL,
    min_score        DOUBLE PRECISION NOT NULL,
    stage            TEXT        NOT NULL,
    failing_criteria TEXT[]      NOT NULL DEFAULT '{}',
    evaluated_period TEXT        NOT NULL DEFAULT '',
    version          BIGINT      NOT NULL,
    create_time      TIMESTAMPTZ NOT NULL,
    update_time      TIMESTAMPTZ NOT NULL
);
