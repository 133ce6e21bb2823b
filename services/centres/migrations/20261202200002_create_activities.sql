-- Activities at centres, registrations with a waitlist, and check-ins.
CREATE TABLE activities (
    id                UUID PRIMARY KEY,
    centre_id         TEXT        NOT NULL REFERENCES centres (id),
    display_name      TEXT        NOT NULL,
    organiser         TEXT        NOT NULL,
    activity_type     TEXT        NOT NULL,
    agreement         TEXT        NOT NULL DEFAULT '',
    start_time        TIMESTAMPTZ NOT NULL,
    end_time          TIMESTAMPTZ NOT NULL CHECK (end_time > start_time),
    capacity          INTEGER     NOT NULL CHECK (capacity > 0),
    volunteer_minutes INTEGER     NOT NULL CHECK (volunteer_minutes >= 0),
    state             TEXT        NOT NULL CHECK (state IN ('scheduled', 'held', 'cancelled')),
    -- Places held by registered attendees and open offers. Registrations
    -- change it only under the activity's row lock; the check is the
    -- database's last word that no activity is ever overfilled.
    seats_taken       INTEGER     NOT NULL DEFAULT 0,
    -- The last waitlist position handed out.
    queue_seq         BIGINT      NOT NULL DEFAULT 0,
    scheduled_by      TEXT        NOT NULL,
    version           BIGINT      NOT NULL,
    create_time       TIMESTAMPTZ NOT NULL,
    update_time       TIMESTAMPTZ NOT NULL,
    CONSTRAINT activities_within_capacity CHECK (seats_taken BETWEEN 0 AND capacity)
);

CREATE INDEX activities_centre_idx ON activities (centre_id);

CREATE TABLE registrations (
    id                UUID PRIMARY KEY,
    activity_id       UUID        NOT NULL REFERENCES activities (id),
    attendee          TEXT        NOT NULL,
    state             TEXT        NOT NULL
        CHECK (state IN ('registered', 'waitlisted', 'offered', 'cancelled', 'expired')),
    queue_seq         BIGINT      NOT NULL,
    offer_expire_time TIMESTAMPTZ,
    no_show           BOOLEAN     NOT NULL DEFAULT false,
    registered_by     TEXT        NOT NULL,
    version           BIGINT      NOT NULL,
    create_time       TIMESTAMPTZ NOT NULL,
    update_time       TIMESTAMPTZ NOT NULL,
    CHECK ((state = 'offered') = (offer_expire_time IS NOT NULL)),
    UNIQUE (activity_id, queue_seq)
);

-- One live registration per attendee; a cancelled or expired one may be
-- followed by a new one.
CREATE UNIQUE INDEX registrations_one_live_per_attendee
    ON registrations (activity_id, attendee) WHERE state IN ('registered', 'waitlisted', 'offered');
-- What the offer sweeper looks for.
CREATE INDEX registrations_offers_due_idx
    ON registrations (offer_expire_time) WHERE state = 'offered';

CREATE TABLE checkins (
    id                UUID PRIMARY KEY,
    activity_id       UUID        NOT NULL REFERENCES activities (id),
    attendee          TEXT        NOT NULL,
    walk_in           BOOLEAN     NOT NULL,
    volunteer_minutes INTEGER     NOT NULL CHECK (volunteer_minutes >= 0),
    recorded_by       TEXT        NOT NULL,
    checked_in_at     TIMESTAMPTZ NOT NULL,
    -- One check-in per attendee per activity: a repeated confirmation is a no-op.
    UNIQUE (activity_id, attendee)
);
