-- Party-mass service centres. A centre sits at a cell or a compound of the
-- replicated grid; location_path is that cell's path (a compound's: its
-- community's), so scope and subtree filters are the same prefix test as
-- on cells.
CREATE TABLE centres (
    id                 TEXT PRIMARY KEY,
    display_name       TEXT        NOT NULL,
    category           TEXT        NOT NULL,
    owner_organisation TEXT        NOT NULL,
    cell_id            TEXT,
    compound_id        TEXT,
    location_path      TEXT        NOT NULL,
    floor_area         INTEGER     NOT NULL CHECK (floor_area > 0),
    -- The weekly schedule and the zones, as the domain serialises them:
    -- always read and written whole with the centre.
    opening_hours      JSONB       NOT NULL,
    zones              JSONB       NOT NULL,
    linked_compounds   TEXT[]      NOT NULL DEFAULT '{}',
    version            BIGINT      NOT NULL,
    create_time        TIMESTAMPTZ NOT NULL,
    update_time        TIMESTAMPTZ NOT NULL,
    CHECK ((cell_id IS NULL) <> (compound_id IS NULL))
);

CREATE INDEX centres_location_path_idx ON centres (location_path text_pattern_ops);
CREATE INDEX centres_compound_idx ON centres (compound_id) WHERE compound_id IS NOT NULL;

-- Idempotency keys of CreateCentre.
CREATE TABLE centre_requests (
    request_id UUID PRIMARY KEY,
    centre_id  TEXT NOT NULL REFERENCES centres (id)
);

-- Every version of every category's standard; the highest is in force, so
-- a compliance report follows a new version without a code change.
CREATE TABLE standards (
    category           TEXT        NOT NULL,
    version            BIGINT      NOT NULL CHECK (version > 0),
    required_functions TEXT[]      NOT NULL,
    minimum_floor_area INTEGER     NOT NULL CHECK (minimum_floor_area >= 0),
    set_by             TEXT        NOT NULL,
    create_time        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (category, version)
);
