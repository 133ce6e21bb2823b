-- The demand, resource and project lists (三单制). A demand or resource
-- keeps the street, community (and compound) it lies in, from the grid
-- replica when it was entered, so matching reads no tree.
CREATE TABLE demands (
    id            UUID PRIMARY KEY,
    category      TEXT        NOT NULL,
    cell_id       TEXT,
    compound_id   TEXT,
    street_id     TEXT        NOT NULL,
    community_id  TEXT        NOT NULL,
    location_path TEXT        NOT NULL,
    quantity      INTEGER     NOT NULL CHECK (quantity > 0),
    during        TSTZRANGE   NOT NULL CHECK (NOT isempty(during)),
    small_wish    BOOLEAN     NOT NULL,
    description   TEXT        NOT NULL,
    requested_by  TEXT        NOT NULL,
    state         TEXT        NOT NULL CHECK (state IN ('open', 'matched')),
    create_time   TIMESTAMPTZ NOT NULL,
    CHECK ((cell_id IS NULL) <> (compound_id IS NULL))
);

CREATE TABLE resources (
    id            UUID PRIMARY KEY,
    category      TEXT        NOT NULL,
    cell_id       TEXT,
    compound_id   TEXT,
    street_id     TEXT        NOT NULL,
    community_id  TEXT        NOT NULL,
    location_path TEXT        NOT NULL,
    capacity      INTEGER     NOT NULL CHECK (capacity > 0),
    during        TSTZRANGE   NOT NULL CHECK (NOT isempty(during)),
    description   TEXT        NOT NULL,
    provider      TEXT        NOT NULL,
    -- The membership report it came from; '' when entered directly.
    source        TEXT        NOT NULL DEFAULT '',
    state         TEXT        NOT NULL CHECK (state IN ('idle', 'committed', 'withdrawn')),
    create_time   TIMESTAMPTZ NOT NULL,
    CHECK ((cell_id IS NULL) <> (compound_id IS NULL))
);

CREATE INDEX resources_source_idx ON resources (source) WHERE source <> '';

-- One project per demand and per resource: a second claim of either is
-- refused by the database even if two claims race past the state checks.
CREATE TABLE projects (
    id            UUID PRIMARY KEY,
    demand_id     UUID        NOT NULL UNIQUE REFERENCES demands (id),
    resource_id   UUID        NOT NULL UNIQUE REFERENCES resources (id),
    category      TEXT        NOT NULL,
    state         TEXT        NOT NULL CHECK (state IN ('started', 'completed')),
    milestones    JSONB       NOT NULL DEFAULT '[]',
    rating        INTEGER     NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    started_by    TEXT        NOT NULL,
    start_time    TIMESTAMPTZ NOT NULL,
    complete_time TIMESTAMPTZ,
    version       BIGINT      NOT NULL
);
