-- A task keeps the assignments of departments that returned it or were
-- released after later whistles, so a department may be on a task twice (a
-- returned assignment and a new one). Rows are keyed by their place in the
-- list instead; a department still has at most one open assignment
-- (assigned 1 or checked in 2) per task.
ALTER TABLE task_assignments DROP CONSTRAINT task_assignments_pkey;
ALTER TABLE task_assignments ADD PRIMARY KEY (task_id, position);
CREATE UNIQUE INDEX task_assignments_one_open_idx
    ON task_assignments (task_id, department_id) WHERE state IN (1, 2);

-- When a department returned the task or was released: with the reason,
-- the record of who bounced it.
ALTER TABLE task_assignments ADD COLUMN return_time TIMESTAMPTZ;
ALTER TABLE task_assignments ADD COLUMN release_time TIMESTAMPTZ;
