-- Residents' requests, incidents and patrol findings, and their lifecycle.
CREATE TABLE tasks (
    id                      UUID PRIMARY KEY,
    cell_id                 TEXT        NOT NULL REFERENCES cells (id),
    -- A copy of the cell's path, so subtree and scope filters need no join.
    cell_path               TEXT        NOT NULL,
    category_id             TEXT        NOT NULL,
    urgency                 SMALLINT    NOT NULL CHECK (urgency BETWEEN 1 AND 4),
    channel                 SMALLINT    NOT NULL CHECK (channel BETWEEN 1 AND 4),
    description             TEXT        NOT NULL,
    attachments             TEXT[]      NOT NULL DEFAULT '{}',
    fields                  JSONB       NOT NULL DEFAULT '{}'::jsonb,
    -- AES-256-GCM (nonce || ciphertext); the clear contact is never stored.
    reporter_contact_sealed BYTEA,
    reporter_contact_masked TEXT        NOT NULL DEFAULT '',
    state                   SMALLINT    NOT NULL CHECK (state BETWEEN 1 AND 9),
    accept_due              TIMESTAMPTZ,
    resolve_due             TIMESTAMPTZ,
    reopen_count            INTEGER     NOT NULL DEFAULT 0,
    satisfied               BOOLEAN,
    merged_into             UUID REFERENCES tasks (id),
    rejection_kind          SMALLINT,
    rejection_reason        TEXT,
    version                 BIGINT      NOT NULL,
    create_time             TIMESTAMPTZ NOT NULL,
    update_time             TIMESTAMPTZ NOT NULL,
    resolve_time            TIMESTAMPTZ,
    close_time              TIMESTAMPTZ,
    -- ReportTask's idempotency key: a retried report is stored once.
    request_id              UUID UNIQUE
);

CREATE INDEX tasks_cell_path_idx ON tasks (cell_path text_pattern_ops);
CREATE INDEX tasks_state_idx ON tasks (state, create_time);
CREATE INDEX tasks_create_time_idx ON tasks (create_time, id);
-- Likely-duplicate lookups: open tasks of a category.
CREATE INDEX tasks_open_category_idx ON tasks (category_id, create_time) WHERE state < 6;

-- The departments of a task's current whistle, each on its own clock.
CREATE TABLE task_assignments (
    task_id           UUID        NOT NULL REFERENCES tasks (id),
    department_id     TEXT        NOT NULL,
    -- Lead first, then assisting in the order named.
    position          SMALLINT    NOT NULL,
    role              SMALLINT    NOT NULL,
    state             SMALLINT    NOT NULL,
    whistle_time      TIMESTAMPTZ NOT NULL,
    check_in_due      TIMESTAMPTZ NOT NULL,
    return_due        TIMESTAMPTZ NOT NULL,
    resolve_due       TIMESTAMPTZ,
    check_in_time     TIMESTAMPTZ,
    resolve_time      TIMESTAMPTZ,
    return_reason     TEXT,
    extension_until   TIMESTAMPTZ,
    extension_reason  TEXT,
    PRIMARY KEY (task_id, department_id)
);

CREATE INDEX task_assignments_department_idx ON task_assignments (department_id, state);

-- Every transition, never changed or removed.
CREATE TABLE task_history (
    task_id     UUID        NOT NULL REFERENCES tasks (id),
    sequence    BIGINT      NOT NULL,
    action      TEXT        NOT NULL,
    from_state  SMALLINT,
    to_state    SMALLINT    NOT NULL,
    actor       TEXT        NOT NULL,
    department  TEXT,
    reason      TEXT,
    time        TIMESTAMPTZ NOT NULL,
    -- For acceptances, check-ins and resolutions: met their deadline or not
    -- (the response and resolution rates count these).
    on_time     BOOLEAN,
    PRIMARY KEY (task_id, sequence)
);

-- The history is evidence for assessments: refuse edits at the database,
-- whatever the application does.
CREATE FUNCTION task_history_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'task_history is append-only';
END;
$$;

CREATE TRIGGER task_history_append_only
    BEFORE UPDATE OR DELETE ON task_history
    FOR EACH ROW EXECUTE FUNCTION task_history_is_immutable();

-- Supervision orders: one per (task, responsible party, step, deadline,
-- rung). The unique key is what makes several sweepers safe: a second
-- insert of the same order is a no-op.
CREATE TABLE supervision_orders (
    id          UUID PRIMARY KEY,
    task_id     UUID        NOT NULL REFERENCES tasks (id),
    -- '' when the grid (not a department) is responsible.
    department  TEXT        NOT NULL,
    step        SMALLINT    NOT NULL,
    level       SMALLINT    NOT NULL,
    due         TIMESTAMPTZ NOT NULL,
    issue_time  TIMESTAMPTZ NOT NULL,
    clear_time  TIMESTAMPTZ,
    UNIQUE (task_id, department, step, due, level)
);

CREATE INDEX supervision_orders_open_idx ON supervision_orders (task_id) WHERE clear_time IS NULL;
CREATE INDEX supervision_orders_department_idx ON supervision_orders (department, issue_time);
