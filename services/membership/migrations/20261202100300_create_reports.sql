-- 双报到: units and in-service members register with a community each year.
CREATE TABLE unit_reports (
    id              UUID        PRIMARY KEY,
    unit_id         TEXT        NOT NULL REFERENCES organisations (id),
    community_id    TEXT        NOT NULL,
    -- The community cell's path, for scope.
    community_path  TEXT        NOT NULL,
    period_year     INTEGER     NOT NULL CHECK (period_year BETWEEN 2000 AND 2200),
    -- [{category, capacity, unit, description}], as pledged.
    resources       JSONB       NOT NULL,
    registered_at   TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ,
    end_reason      TEXT        NOT NULL DEFAULT ''
);

-- One active report of a unit to a community per year.
CREATE UNIQUE INDEX unit_reports_active_key
    ON unit_reports (unit_id, community_id, period_year) WHERE ended_at IS NULL;
CREATE INDEX unit_reports_community_idx ON unit_reports (community_id, period_year);

CREATE TABLE member_reports (
    id              UUID        PRIMARY KEY,
    member_id       UUID        NOT NULL REFERENCES members (id),
    community_id    TEXT        NOT NULL,
    community_path  TEXT        NOT NULL,
    -- The member's work unit (在职) when registering.
    work_unit_id    TEXT REFERENCES organisations (id),
    period_year     INTEGER     NOT NULL CHECK (period_year BETWEEN 2000 AND 2200),
    skills          TEXT[]      NOT NULL,
    volunteer_posts TEXT[]      NOT NULL,
    registered_at   TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ,
    end_reason      TEXT        NOT NULL DEFAULT ''
);

-- One active member report per member and period: the database refuses a
-- second, also when two registrations race.
CREATE UNIQUE INDEX member_reports_active_key
    ON member_reports (member_id, period_year) WHERE ended_at IS NULL;
CREATE INDEX member_reports_community_idx ON member_reports (community_id, period_year);

-- Attendance, from centres.checkin.recorded: one row per check-in however
-- often it is delivered (the inbox skips a redelivered event; the key
-- skips the same check-in under another event id).
CREATE TABLE checkins (
    checkin         TEXT        PRIMARY KEY,
    activity        TEXT        NOT NULL,
    organiser_id    TEXT,
    agreement_id    TEXT,
    -- NULL for residents who are no party members.
    member_id       UUID,
    cell_id         TEXT        NOT NULL,
    compound_id     TEXT,
    -- The community the centre's cell lies in, when this service knows it.
    community_id    TEXT,
    volunteer_minutes INTEGER   NOT NULL,
    checked_in_at   TIMESTAMPTZ NOT NULL,
    -- The quarter of checked_in_at in China's time (Asia/Shanghai).
    quarter_year    SMALLINT    NOT NULL,
    quarter         SMALLINT    NOT NULL CHECK (quarter BETWEEN 1 AND 4)
);

CREATE INDEX checkins_member_idx ON checkins (member_id, checked_in_at);
CREATE INDEX checkins_community_idx ON checkins (community_id, quarter_year, quarter);
CREATE INDEX checkins_agreement_idx ON checkins (agreement_id, checked_in_at);
