-- A demand entered from a resident's request in the grid names its task
-- ("tasks/{task_id}"); the key makes it one demand per task however often
-- grid.task.reported is delivered or replayed from the grid's log.
ALTER TABLE demands ADD COLUMN source_task TEXT UNIQUE;
