-- The organisation tree. Placement and parent never change (transfers of
-- organisations are a later issue), so area_path, the path of the cell the
-- organisation's area lies in, is written once and scopes every read.
CREATE TABLE organisations (
    -- The code: the last segment of "organisations/{id}".
    id                      TEXT PRIMARY KEY,
    -- civicgrid.membership.v1.OrganisationKind
    kind                    SMALLINT    NOT NULL CHECK (kind BETWEEN 1 AND 16),
    display_name            TEXT        NOT NULL,
    parent_id               TEXT REFERENCES organisations (id),
    -- At most one of cell_id and compound_id (codes in the replicated grid).
    cell_id                 TEXT,
    compound_id             TEXT,
    -- "/county/street/.../": the placement's cell path (a compound's
    -- community), or the parent's area when not placed.
    area_path               TEXT        NOT NULL,
    branch_committee_formed BOOLEAN     NOT NULL DEFAULT false,
    office_premises         BOOLEAN     NOT NULL DEFAULT false,
    activity_premises       BOOLEAN     NOT NULL DEFAULT false,
    version                 BIGINT      NOT NULL,
    create_time             TIMESTAMPTZ NOT NULL,
    update_time             TIMESTAMPTZ NOT NULL,
    CHECK (cell_id IS NULL OR compound_id IS NULL),
    CHECK ((parent_id IS NULL) = (kind = 1))
);

-- text_pattern_ops lets `area_path LIKE '/a/b/%'` use the index whatever the collation.
CREATE INDEX organisations_area_path_idx ON organisations (area_path text_pattern_ops);
CREATE INDEX organisations_parent_idx ON organisations (parent_id);

-- CreateOrganisation idempotency keys.
CREATE TABLE create_organisation_requests (
    request_id      UUID PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id)
);
