-- Co-building agreements (共驻共建), their commitments, the near-duplicate
-- pairs found when each was signed, and the co-building activities held
-- under them (from centres.activity.held).
CREATE TABLE agreements (
    id                 UUID        PRIMARY KEY,
    community_id       TEXT        NOT NULL,
    community_path     TEXT        NOT NULL,
    -- Organisation codes, at least two.
    parties            TEXT[]      NOT NULL CHECK (cardinality(parties) >= 2),
    title              TEXT        NOT NULL,
    body               TEXT        NOT NULL,
    -- The text with party names, dates, punctuation and space taken out,
    -- which later agreements are compared with.
    normalised_body    TEXT        NOT NULL,
    term_start         TIMESTAMPTZ NOT NULL,
    term_end           TIMESTAMPTZ NOT NULL CHECK (term_end > term_start),
    sign_time          TIMESTAMPTZ NOT NULL,
    last_activity_time TIMESTAMPTZ
);

CREATE INDEX agreements_community_path_idx ON agreements (community_path text_pattern_ops);
CREATE INDEX agreements_parties_idx ON agreements USING gin (parties);

CREATE TABLE commitments (
    id           UUID        PRIMARY KEY,
    agreement_id UUID        NOT NULL REFERENCES agreements (id),
    position     SMALLINT    NOT NULL,
    description  TEXT        NOT NULL,
    owner_id     TEXT        NOT NULL REFERENCES organisations (id),
    due_time     TIMESTAMPTZ NOT NULL,
    -- civicgrid.membership.v1.CommitmentStatus: 1 open, 2 fulfilled.
    status       SMALLINT    NOT NULL CHECK (status IN (1, 2)),
    fulfil_time  TIMESTAMPTZ,
    CHECK ((status = 2) = (fulfil_time IS NOT NULL))
);

CREATE INDEX commitments_agreement_idx ON commitments (agreement_id, position);

-- agreement_id is the newer of the pair.
CREATE TABLE agreement_near_duplicates (
    agreement_id UUID             NOT NULL REFERENCES agreements (id),
    other_id     UUID             NOT NULL REFERENCES agreements (id),
    similarity   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (agreement_id, other_id)
);

-- One row per activity, however often its event is delivered.
CREATE TABLE agreement_activities (
    activity     TEXT        PRIMARY KEY,
    agreement_id UUID        NOT NULL,
    end_time     TIMESTAMPTZ NOT NULL
);
