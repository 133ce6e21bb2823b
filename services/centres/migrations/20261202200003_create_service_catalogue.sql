-- The services each centre offers, their slots with capacity, and bookings of places in them.
CREATE TABLE centre_services (
    centre_id    TEXT        NOT NULL REFERENCES centres (id),
    id           TEXT        NOT NULL,
    display_name TEXT        NOT NULL,
    description  TEXT        NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (centre_id, id)
);

CREATE TABLE service_slots (
    id          UUID PRIMARY KEY,
    centre_id   TEXT        NOT NULL,
    service_id  TEXT        NOT NULL,
    during      TSTZRANGE   NOT NULL CHECK (lower_inc(during) AND NOT upper_inc(during) AND NOT isempty(during)),
    capacity    INTEGER     NOT NULL CHECK (capacity > 0),
    -- Confirmed bookings. Raised only by a conditional UPDATE that takes the
    -- slot's row lock; the check is the database's last word on overbooking.
    booked      INTEGER     NOT NULL DEFAULT 0,
    create_time TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (centre_id, service_id) REFERENCES centre_services (centre_id, id),
    CONSTRAINT service_slots_within_capacity CHECK (booked BETWEEN 0 AND capacity)
);

CREATE INDEX service_slots_service_idx ON service_slots (centre_id, service_id);

CREATE TABLE slot_bookings (
    id          UUID PRIMARY KEY,
    slot_id     UUID        NOT NULL REFERENCES service_slots (id),
    attendee    TEXT        NOT NULL,
    state       TEXT        NOT NULL CHECK (state IN ('confirmed', 'cancelled')),
    booked_by   TEXT        NOT NULL,
    request_id  UUID UNIQUE,
    create_time TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX slot_bookings_one_per_attendee
    ON slot_bookings (slot_id, attendee) WHERE state = 'confirmed';
