-- Owned by crates/cell-tree: the grid's cell table and every replica of it
-- share these columns, so one set of queries serves them all. Services copy
-- this file into their migrations/ (a test checks the copies stay identical).
CREATE TABLE cells (
    -- The cell code: the last segment of the resource name "cells/{id}".
    id           TEXT PRIMARY KEY,
    parent_id    TEXT,
    level        SMALLINT    NOT NULL CHECK (level BETWEEN 1 AND 6),
    display_name TEXT        NOT NULL,
    newly_built  BOOLEAN     NOT NULL DEFAULT false,
    -- Materialised path "/county/street/.../id/": a subtree is a prefix.
    path         TEXT        NOT NULL,
    version      BIGINT      NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL
);

-- text_pattern_ops lets `path LIKE '/a/b/%'` use the index whatever the collation.
CREATE INDEX cells_path_idx ON cells (path text_pattern_ops);
CREATE INDEX cells_parent_idx ON cells (parent_id);
