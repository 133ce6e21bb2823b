-- The directory tasks are measured against. Every table carries a version
-- (1 on create, +1 on every replacement) so a response can say which edition
-- a caller saw, and create/update times for audits of who changed deadlines when.

-- Functional departments (职能部门) that whistled tasks are assigned to.
CREATE TABLE departments (
    -- The code: the last segment of "departments/{id}" (the rules of cell codes).
    id           TEXT PRIMARY KEY,
    display_name TEXT        NOT NULL,
    version      BIGINT      NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL
);

-- Task categories. The extra fields are one JSONB array
-- [{"key", "display_name", "required"}] in form order: they are always read
-- and written with their category, never queried on their own, so a child
-- table would add a join and no integrity the API does not already check.
CREATE TABLE categories (
    id           TEXT PRIMARY KEY,
    display_name TEXT        NOT NULL,
    fields       JSONB       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(fields) = 'array'),
    version      BIGINT      NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL
);

-- One policy per category and urgency. Urgency is stored as its contract
-- number (1 low .. 4 emergency) so policies sort from least to most urgent.
-- Each allowance is minutes plus its clock ('calendar' or 'working'); the
-- bounds repeat the API's so a hand-written row cannot break deadline maths.
CREATE TABLE deadline_policies (
    category_id      TEXT        NOT NULL REFERENCES categories (id),
    urgency          SMALLINT    NOT NULL CHECK (urgency BETWEEN 1 AND 4),
    accept_minutes   INTEGER     NOT NULL CHECK (accept_minutes BETWEEN 1 AND 525600),
    accept_clock     TEXT        NOT NULL CHECK (accept_clock IN ('calendar', 'working')),
    check_in_minutes INTEGER     NOT NULL CHECK (check_in_minutes BETWEEN 1 AND 525600),
    check_in_clock   TEXT        NOT NULL CHECK (check_in_clock IN ('calendar', 'working')),
    resolve_minutes  INTEGER     NOT NULL CHECK (resolve_minutes BETWEEN 1 AND 525600),
    resolve_clock    TEXT        NOT NULL CHECK (resolve_clock IN ('calendar', 'working')),
    return_minutes   INTEGER     NOT NULL CHECK (return_minutes BETWEEN 1 AND 525600),
    return_clock     TEXT        NOT NULL CHECK (return_clock IN ('calendar', 'working')),
    version          BIGINT      NOT NULL,
    create_time      TIMESTAMPTZ NOT NULL,
    update_time      TIMESTAMPTZ NOT NULL,
    -- The task lifecycle looks a policy up by exactly this pair.
    PRIMARY KEY (category_id, urgency)
);

-- One row per year of exceptions to the Monday-Friday week (调休): arrays,
-- because a year is read and replaced whole and the task lifecycle loads
-- every year at once to compute deadlines across New Year.
CREATE TABLE working_calendars (
    year                 INTEGER PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    holidays             DATE[]      NOT NULL,
    make_up_working_days DATE[]      NOT NULL,
    version              BIGINT      NOT NULL,
    create_time          TIMESTAMPTZ NOT NULL,
    update_time          TIMESTAMPTZ NOT NULL
);
