-- The grid owns the tree, so here (unlike in replicas) a parent must exist.
ALTER TABLE cells ADD CONSTRAINT cells_parent_fk FOREIGN KEY (parent_id) REFERENCES cells (id);

-- Idempotency keys of CreateCell: a retried request returns the first result.
CREATE TABLE create_cell_requests (
    request_id UUID PRIMARY KEY,
    cell_id    TEXT        NOT NULL REFERENCES cells (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
