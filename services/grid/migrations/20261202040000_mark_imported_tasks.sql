-- Tasks loaded with their history by TaskService.ImportTasks (an earlier
-- system's records, the county generator) rather than reported live.
ALTER TABLE tasks ADD COLUMN imported BOOLEAN NOT NULL DEFAULT false;
