-- Owned by crates/messaging: every service's migrations/ carries an identical
-- copy of this file (a test checks they stay identical).

-- Whatever writes outbox rows (a command's own statement, a bulk import, an
-- operator's replay) wakes the relay when its transaction commits; like
-- every NOTIFY it is delivered on commit and never on rollback. The trigger
-- lets a command write its rows and their events in one statement, one
-- round trip and one implicit transaction, with no separate wake-up query.
CREATE FUNCTION outbox_wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('civicgrid_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_wake_relay
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_relay();
