-- GetTaskStatistics read every step of every task in its subtree: a street
-- of a million-task county is half a million history rows, past the 10 s
-- request timeout. The counts it needs are kept here per community (a
-- task's path cut after its third cell) and day of report (China Standard
-- Time), so a street's or the county's statistics sum a few thousand rows.
--
-- Every statement that appends to task_history inserts one delta per
-- (community, day) it touched, in the same transaction; the grid's fold
-- moves deltas into task_tallies. Deltas are only ever inserted, so two
-- transitions in one community never wait on each other's row lock, and
-- the statistics sum both tables, exact whether or not the fold has run.
CREATE TABLE task_tallies (
    tally_path          TEXT COLLATE "C" NOT NULL,
    day                 DATE   NOT NULL,
    tasks               BIGINT NOT NULL,
    responses           BIGINT NOT NULL,
    responses_on_time   BIGINT NOT NULL,
    resolutions         BIGINT NOT NULL,
    resolutions_on_time BIGINT NOT NULL,
    ratings             BIGINT NOT NULL,
    ratings_satisfied   BIGINT NOT NULL,
    returns             BIGINT NOT NULL,
    check_ins           BIGINT NOT NULL,
    reopenings          BIGINT NOT NULL,
    resolved            BIGINT NOT NULL,
    PRIMARY KEY (tally_path, day)
);

CREATE TABLE task_tally_deltas (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    LIKE task_tallies
);
CREATE INDEX task_tally_deltas_path_idx ON task_tally_deltas (tally_path, day);

-- The path a task's counts are kept under: its first three cells.
CREATE FUNCTION task_tally_path(cell_path TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN substring(cell_path FROM '^/(?:[^/]+/){1,3}');

-- What each step adds (the history's actions as GetTaskStatistics counts them).
CREATE VIEW task_step_tallies AS
SELECT h.task_id, h.sequence,
       task_tally_path(t.cell_path) AS tally_path,
       (t.create_time AT TIME ZONE INTERVAL '+08:00')::date AS day,
       (h.sequence = 1)::int AS tasks,
       (h.action IN ('accepted', 'checked_in') AND h.on_time IS NOT NULL)::int AS responses,
       (h.action IN ('accepted', 'checked_in') AND h.on_time IS TRUE)::int AS responses_on_time,
       (h.action IN ('resolved_by_grid', 'department_resolved') AND h.on_time IS NOT NULL)::int AS resolutions,
       (h.action IN ('resolved_by_grid', 'department_resolved') AND h.on_time IS TRUE)::int AS resolutions_on_time,
       (h.action = 'rated')::int AS ratings,
       (h.action = 'rated' AND h.to_state = 7)::int AS ratings_satisfied,
       (h.action = 'returned')::int AS returns,
       (h.action = 'checked_in')::int AS check_ins,
       (h.action = 'reopened')::int AS reopenings,
       (h.action IN ('resolved_by_grid', 'resolved'))::int AS resolved
FROM task_history h JOIN tasks t ON t.id = h.task_id;

CREATE FUNCTION task_history_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_tally_deltas (tally_path, day, tasks, responses, responses_on_time, resolutions,
        resolutions_on_time, ratings, ratings_satisfied, returns, check_ins, reopenings, resolved)
    SELECT s.tally_path, s.day, sum(s.tasks), sum(s.responses), sum(s.responses_on_time), sum(s.resolutions),
        sum(s.resolutions_on_time), sum(s.ratings), sum(s.ratings_satisfied), sum(s.returns), sum(s.check_ins),
        sum(s.reopenings), sum(s.resolved)
    FROM new_steps n JOIN task_step_tallies s ON s.task_id = n.task_id AND s.sequence = n.sequence
    GROUP BY s.tally_path, s.day;
    RETURN NULL;
END;
$$;

CREATE TRIGGER task_history_tally
    AFTER INSERT ON task_history REFERENCING NEW TABLE AS new_steps
    FOR EACH STATEMENT EXECUTE FUNCTION task_history_tally();

-- The history so far.
INSERT INTO task_tallies
SELECT s.tally_path, s.day, sum(s.tasks), sum(s.responses), sum(s.responses_on_time), sum(s.resolutions),
    sum(s.resolutions_on_time), sum(s.ratings), sum(s.ratings_satisfied), sum(s.returns), sum(s.check_ins),
    sum(s.reopenings), sum(s.resolved)
FROM task_step_tallies s
GROUP BY s.tally_path, s.day;
