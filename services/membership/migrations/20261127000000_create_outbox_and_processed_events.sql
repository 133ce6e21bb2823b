-- Owned by crates/messaging: every service's migrations/ carries an identical
-- copy of this file (a messaging test checks they stay identical).

-- Transactional outbox: an event row is written in the same transaction as
-- the change it describes; the relay publishes it and stamps published_at
-- only after the broker confirmed it.
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    routing_key  TEXT        NOT NULL,
    message_type TEXT        NOT NULL,
    payload      BYTEA       NOT NULL,
    -- W3C trace context of the request that caused the event.
    headers      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);

-- The relay's claim query and the backlog gauge only look at unpublished rows.
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- Inbox: one row per (event, handler) applied, written in the same
-- transaction as the effect, so a redelivered event is recognised and skipped.
CREATE TABLE processed_events (
    event_id     UUID        NOT NULL,
    handler      TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, handler)
);
