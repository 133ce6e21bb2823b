-- Posts members hold in organisations, over time. Nothing derived is
-- stored: 一肩挑 and the four-party cross-appointments are read from the
-- posts valid at the moment asked about, so a post that ended stops
-- counting without anything else being updated.
CREATE TABLE posts (
    -- UUID v7: ordered by creation, the list's sort key.
    id              UUID        PRIMARY KEY,
    member_id       UUID        NOT NULL REFERENCES members (id),
    organisation_id TEXT        NOT NULL REFERENCES organisations (id),
    -- civicgrid.membership.v1.PostKind
    kind            SMALLINT    NOT NULL CHECK (kind BETWEEN 1 AND 6),
    valid_from      TIMESTAMPTZ NOT NULL,
    -- Exclusive; NULL: open-ended.
    valid_until     TIMESTAMPTZ,
    create_time     TIMESTAMPTZ NOT NULL,
    CONSTRAINT posts_period_check CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

-- Reports read an organisation's posts; "valid now" depends on now(), so
-- the end is carried rather than indexed by a predicate.
CREATE INDEX posts_organisation_idx ON posts (organisation_id, kind, valid_from) INCLUDE (valid_until, member_id);
CREATE INDEX posts_member_idx ON posts (member_id, valid_from);

-- AssignPost idempotency keys.
CREATE TABLE assign_post_requests (
    request_id UUID PRIMARY KEY,
    post_id    UUID NOT NULL REFERENCES posts (id)
);
