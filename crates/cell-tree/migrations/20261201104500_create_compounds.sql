-- Owned by crates/cell-tree: the grid's compounds and every replica of them
-- share these columns, so one set of queries serves them all. Services copy
-- this file into their migrations/ (a test checks the copies stay identical).
CREATE TABLE compounds (
    -- The compound code: the last segment of the resource name "compounds/{id}".
    id                        TEXT PRIMARY KEY,
    -- The community cell it lies in, and that cell's materialised path
    -- "/county/street/community/": scope and subtree queries are a prefix.
    community_id              TEXT        NOT NULL,
    community_path            TEXT        NOT NULL,
    display_name              TEXT        NOT NULL,
    -- Building cell codes in code order.
    building_ids              TEXT[]      NOT NULL DEFAULT '{}',
    address                   TEXT        NOT NULL DEFAULT '',
    -- NULL when unknown.
    year_built                SMALLINT,
    newly_built               BOOLEAN     NOT NULL DEFAULT false,
    lacks_required_facilities BOOLEAN     NOT NULL DEFAULT false,
    property_company          TEXT        NOT NULL DEFAULT '',
    version                   BIGINT      NOT NULL,
    create_time               TIMESTAMPTZ NOT NULL,
    update_time               TIMESTAMPTZ NOT NULL
);

-- text_pattern_ops lets `community_path LIKE '/a/b/%'` use the index whatever the collation.
CREATE INDEX compounds_community_path_idx ON compounds (community_path text_pattern_ops);
