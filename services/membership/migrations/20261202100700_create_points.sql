-- The points ledger (积分): append-only, balances are sums. One entry per
-- rule and source event, so a redelivered or repeated award adds nothing.
CREATE TABLE points_entries (
    id              UUID        PRIMARY KEY,
    member_id       UUID        NOT NULL REFERENCES members (id),
    rule            TEXT        NOT NULL,
    points          INTEGER     NOT NULL CHECK (points > 0),
    reason          TEXT        NOT NULL,
    source_event_id TEXT        NOT NULL,
    -- The quarter (Asia/Shanghai) the cap counts in.
    quarter_year    SMALLINT    NOT NULL,
    quarter         SMALLINT    NOT NULL,
    award_time      TIMESTAMPTZ NOT NULL,
    UNIQUE (rule, source_event_id)
);

CREATE INDEX points_entries_member_idx ON points_entries (member_id, rule, quarter_year, quarter);

-- Entries are never changed or removed.
CREATE FUNCTION points_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'points_entries is append-only';
END $$;
CREATE TRIGGER points_entries_append_only BEFORE UPDATE OR DELETE ON points_entries
    FOR EACH ROW EXECUTE FUNCTION points_entries_append_only();
