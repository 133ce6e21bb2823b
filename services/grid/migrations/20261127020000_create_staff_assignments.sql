-- Who holds which duty in which cell, and when: grid chiefs and workers,
-- building and unit chiefs, cadres sunk from county departments.
CREATE TABLE staff_assignments (
    -- UUID v7: ordered by creation, the list's sort key.
    id                  UUID        PRIMARY KEY,
    cell_id             TEXT        NOT NULL REFERENCES cells (id),
    -- The person's account: the `sub` of their tokens.
    person              TEXT        NOT NULL,
    person_display_name TEXT        NOT NULL,
    -- StaffRole: 1 grid chief, 2 grid worker, 3 building chief, 4 unit chief, 5 sunk cadre.
    role                SMALLINT    NOT NULL CHECK (role BETWEEN 1 AND 5),
    -- The sunk cadre's department code (without "departments/"). Not a
    -- foreign key: departments may be registered after their cadres.
    home_department     TEXT,
    valid_from          TIMESTAMPTZ NOT NULL,
    -- Exclusive; NULL: open-ended. Equal to valid_from when a duty was
    -- called off before it began (an empty period, never valid).
    valid_until         TIMESTAMPTZ,
    create_time         TIMESTAMPTZ NOT NULL,
    CONSTRAINT staff_assignments_period_check CHECK (valid_until IS NULL OR valid_until >= valid_from),
    CONSTRAINT staff_assignments_department_check CHECK ((role = 5) = (home_department IS NOT NULL))
);

-- "Currently valid" depends on now(), which no partial index can name, so
-- both lookups index the start and carry the end: a person or a cell has
-- few duties, and the range test runs on the index entries alone.
CREATE INDEX staff_assignments_person_idx
    ON staff_assignments (person, valid_from) INCLUDE (valid_until, cell_id);
CREATE INDEX staff_assignments_cell_idx
    ON staff_assignments (cell_id, valid_from) INCLUDE (valid_until, person, role);
