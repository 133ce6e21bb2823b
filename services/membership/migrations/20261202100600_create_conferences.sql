-- Joint conferences (大工委, 大党委, 联席会议), their meetings and the issues
-- raised at them, tracked from raising to resolution.
CREATE TABLE conferences (
    id           UUID        PRIMARY KEY,
    -- civicgrid.membership.v1.ConferenceKind
    kind         SMALLINT    NOT NULL CHECK (kind BETWEEN 1 AND 3),
    cell_id      TEXT        NOT NULL,
    cell_path    TEXT        NOT NULL,
    display_name TEXT        NOT NULL,
    member_units TEXT[]      NOT NULL CHECK (cardinality(member_units) >= 1),
    create_time  TIMESTAMPTZ NOT NULL
);

CREATE INDEX conferences_cell_path_idx ON conferences (cell_path text_pattern_ops);

CREATE TABLE conference_meetings (
    id            UUID        PRIMARY KEY,
    conference_id UUID        NOT NULL REFERENCES conferences (id),
    topic         TEXT        NOT NULL,
    held_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE conference_issues (
    id            UUID        PRIMARY KEY,
    conference_id UUID        NOT NULL REFERENCES conferences (id),
    meeting_id    UUID REFERENCES conference_meetings (id),
    title         TEXT        NOT NULL,
    owner_id      TEXT        NOT NULL REFERENCES organisations (id),
    due_time      TIMESTAMPTZ NOT NULL,
    raise_time    TIMESTAMPTZ NOT NULL,
    resolve_time  TIMESTAMPTZ,
    resolution    TEXT        NOT NULL DEFAULT ''
);

-- The overdue list reads open issues by due time.
CREATE INDEX conference_issues_open_idx ON conference_issues (due_time) WHERE resolve_time IS NULL;
