-- Owned by crates/messaging: every service's migrations/ carries an identical
-- copy of this file (a test checks they stay identical).

-- The outbox becomes the service's append-only event log. Each published
-- row gets a position in commit order: the single relay (under its advisory
-- lock) draws positions from this sequence for the rows it publishes, in id
-- order within its batch, and commits them with the published mark. Passes
-- commit one after another, so the committed positions always form a prefix
-- (with holes where a pass rolled back, never filled later): a reader that
-- has seen position N has seen every event that will ever have a smaller one.
-- A BIGSERIAL id cannot promise that: it is drawn at insert, not at commit.
CREATE SEQUENCE outbox_position_seq AS BIGINT;

-- UNIQUE also gives the index ReadEvents scans (position > $after ORDER BY position).
ALTER TABLE outbox ADD COLUMN position BIGINT UNIQUE;

-- Rows published before positions existed keep their id order, the best
-- guess of their commit order there is.
UPDATE outbox o SET position = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM outbox WHERE published_at IS NOT NULL) numbered
WHERE o.id = numbered.id;
SELECT setval('outbox_position_seq', (SELECT max(position) FROM outbox))
WHERE EXISTS (SELECT 1 FROM outbox WHERE position IS NOT NULL);

-- Retention is off by default; when an operator turns it on, the relay
-- records how far it pruned, so a reader asking for older events is told
-- they are gone instead of silently getting fewer.
CREATE TABLE outbox_pruned (
    singleton     BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    up_to_position BIGINT NOT NULL
);

-- A catch-up subscription's checkpoint in a producer's log: every event at
-- or below `position` matching the subscription has been applied (or
-- dead-lettered). Written in the same transaction as each effect.
CREATE TABLE subscription_checkpoints (
    subscription TEXT        NOT NULL,
    producer     TEXT        NOT NULL,
    position     BIGINT      NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription, producer)
);

-- The last aggregate version a catch-up subscription applied, and the log
-- position it came from: a later version more than one ahead is a gap,
-- filled from the log starting at `position`.
CREATE TABLE subscription_aggregates (
    subscription TEXT   NOT NULL,
    aggregate_id TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    position     BIGINT NOT NULL,
    PRIMARY KEY (subscription, aggregate_id)
);
