-- btree_gist lets one exclusion constraint combine equality on the zone with
-- overlap on the time range (trusted since PostgreSQL 13, so the service's
-- own role may create it).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE bookings (
    id          UUID PRIMARY KEY,
    centre_id   TEXT        NOT NULL REFERENCES centres (id),
    zone_id     TEXT        NOT NULL,
    -- Half-open [start, end): a booking ending at 10:00 and one starting at
    -- 10:00 do not overlap.
    during      TSTZRANGE   NOT NULL CHECK (lower_inc(during) AND NOT upper_inc(during) AND NOT isempty(during)),
    purpose     TEXT        NOT NULL,
    booked_by   TEXT        NOT NULL,
    state       TEXT        NOT NULL CHECK (state IN ('confirmed', 'cancelled')),
    request_id  UUID UNIQUE,
    create_time TIMESTAMPTZ NOT NULL,
    -- The database, not a check-then-insert, refuses a double booking, under
    -- any concurrency; cancelled bookings free their range.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        centre_id WITH =, zone_id WITH =, during WITH &&
    ) WHERE (state = 'confirmed')
);
