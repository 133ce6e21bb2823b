-- Every move of a member between organisations of record, oldest first.
CREATE TABLE member_transfers (
    id                UUID        PRIMARY KEY,
    member_id         UUID        NOT NULL REFERENCES members (id),
    from_organisation TEXT        NOT NULL REFERENCES organisations (id),
    to_organisation   TEXT        NOT NULL REFERENCES organisations (id),
    reason            TEXT        NOT NULL,
    transfer_time     TIMESTAMPTZ NOT NULL
);

CREATE INDEX member_transfers_member_idx ON member_transfers (member_id, transfer_time);
CREATE INDEX members_work_unit_idx ON members (work_unit_id);
