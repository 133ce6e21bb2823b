-- Party members. Name, ID number and phone exist only sealed (AES-256-GCM,
-- nonce || ciphertext); the ID number is found through its keyed blind
-- index (HMAC-SHA256), which is also what makes a second member with the
-- same number impossible, under concurrency too.
CREATE TABLE members (
    id                UUID PRIMARY KEY,
    full_name_sealed  BYTEA       NOT NULL,
    id_number_sealed  BYTEA       NOT NULL,
    id_number_index   BYTEA       NOT NULL UNIQUE,
    phone_sealed      BYTEA       NOT NULL,
    -- The organisation of record (在册).
    organisation_id   TEXT        NOT NULL REFERENCES organisations (id),
    -- civicgrid.membership.v1.Standing
    standing          SMALLINT    NOT NULL CHECK (standing IN (1, 2)),
    flow_member       BOOLEAN     NOT NULL,
    -- Where the member lives (在地), a cell code; NULL when not known.
    residence_cell_id TEXT,
    -- The work unit's organisation (在职).
    work_unit_id      TEXT REFERENCES organisations (id),
    version           BIGINT      NOT NULL,
    create_time       TIMESTAMPTZ NOT NULL,
    update_time       TIMESTAMPTZ NOT NULL
);

CREATE INDEX members_organisation_idx ON members (organisation_id);

-- RegisterMember idempotency keys.
CREATE TABLE register_member_requests (
    request_id UUID PRIMARY KEY,
    member_id  UUID NOT NULL REFERENCES members (id)
);
