-- The demand lists of the communities (需求清单), from
-- centres.demand.registered: what reported members are offered to take
-- up. Keyed by centres' demand id, so a demand is kept once however often
-- its event is delivered.
CREATE TABLE community_demands (
    id              UUID        PRIMARY KEY,
    category        TEXT        NOT NULL,
    community_id    TEXT        NOT NULL,
    -- The community cell's path, for scope.
    community_path  TEXT        NOT NULL,
    cell_id         TEXT,
    compound_id     TEXT,
    start_time      TIMESTAMPTZ NOT NULL,
    end_time        TIMESTAMPTZ NOT NULL,
    description     TEXT        NOT NULL,
    -- "tasks/{task_id}" for a resident's request from the grid, else ''.
    task            TEXT        NOT NULL DEFAULT '',
    registered_at   TIMESTAMPTZ NOT NULL,
    CHECK ((cell_id IS NULL) <> (compound_id IS NULL))
);

CREATE INDEX community_demands_community_idx ON community_demands (community_id, end_time);
