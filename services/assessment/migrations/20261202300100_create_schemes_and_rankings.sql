-- Indicator scheme versions. The spec (indicators, redistribution) is the
-- domain's JSON form; a published row never changes again (the trigger
-- below refuses it even to a buggy command).
CREATE TABLE scheme_versions (
    scheme_id      TEXT        NOT NULL,
    version        INTEGER     NOT NULL CHECK (version > 0),
    display_name   TEXT        NOT NULL,
    -- The first month it applies to, "2026-11": sorts as text.
    effective_from TEXT        NOT NULL,
    spec           JSONB       NOT NULL,
    published      BOOLEAN     NOT NULL DEFAULT false,
    create_time    TIMESTAMPTZ NOT NULL,
    publish_time   TIMESTAMPTZ,
    PRIMARY KEY (scheme_id, version)
);

-- Two published versions starting in the same month would leave which one
-- is in force undecided.
CREATE UNIQUE INDEX scheme_versions_in_force_idx
    ON scheme_versions (scheme_id, effective_from) WHERE published;

CREATE FUNCTION scheme_versions_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.published THEN
        RAISE EXCEPTION 'scheme version %/% is published and immutable', OLD.scheme_id, OLD.version
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER scheme_versions_immutable
    BEFORE UPDATE OR DELETE ON scheme_versions
    FOR EACH ROW EXECUTE FUNCTION scheme_versions_immutable();

-- The last published ranking of each scheme, level and period; the cards
-- are the domain's JSON form, exactly as published in the event.
CREATE TABLE rankings (
    scheme_id      TEXT        NOT NULL,
    level          TEXT        NOT NULL,
    period         TEXT        NOT NULL,
    scheme_version INTEGER     NOT NULL,
    revision       BIGINT      NOT NULL,
    cards          JSONB       NOT NULL,
    publish_time   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scheme_id, level, period)
);
