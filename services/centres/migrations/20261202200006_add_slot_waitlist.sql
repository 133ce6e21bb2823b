-- Waitlists for service slots, as for activity registrations: a full slot
-- queues bookings that asked to wait; a freed place is offered to the
-- first in line until the offer expires.
ALTER TABLE slot_bookings DROP CONSTRAINT slot_bookings_state_check;
ALTER TABLE slot_bookings
    ADD CONSTRAINT slot_bookings_state_check
        CHECK (state IN ('confirmed', 'cancelled', 'waitlisted', 'offered', 'expired')),
    ADD COLUMN queue_seq BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN offer_expire_time TIMESTAMPTZ,
    ADD COLUMN version BIGINT NOT NULL DEFAULT 1,
    ADD CONSTRAINT slot_bookings_offer_has_expiry CHECK ((state = 'offered') = (offer_expire_time IS NOT NULL));

DROP INDEX slot_bookings_one_per_attendee;
CREATE UNIQUE INDEX slot_bookings_one_live_per_attendee
    ON slot_bookings (slot_id, attendee) WHERE state IN ('confirmed', 'waitlisted', 'offered');
CREATE INDEX slot_bookings_offers_due_idx ON slot_bookings (offer_expire_time) WHERE state = 'offered';

-- `booked` now counts confirmed bookings and open offers: the places held.
ALTER TABLE service_slots ADD COLUMN queue_seq BIGINT NOT NULL DEFAULT 0;
