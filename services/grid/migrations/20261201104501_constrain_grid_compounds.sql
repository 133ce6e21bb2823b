-- The grid owns compounds, so here (unlike in replicas) the community must
-- exist, and a building belongs to at most one compound: compound_buildings
-- holds the same codes as compounds.building_ids, one row per building, so
-- the primary key refuses a second claim even from concurrent writers.
ALTER TABLE compounds ADD CONSTRAINT compounds_community_fk
    FOREIGN KEY (community_id) REFERENCES cells (id);

CREATE TABLE compound_buildings (
    building_id TEXT PRIMARY KEY REFERENCES cells (id),
    compound_id TEXT NOT NULL REFERENCES compounds (id)
);
CREATE INDEX compound_buildings_compound_idx ON compound_buildings (compound_id);

-- Idempotency keys of CreateCompound: a retried request returns the first result.
CREATE TABLE create_compound_requests (
    request_id  UUID PRIMARY KEY,
    compound_id TEXT        NOT NULL REFERENCES compounds (id),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
