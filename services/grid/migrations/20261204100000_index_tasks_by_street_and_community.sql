-- A street's or a community's tasks in report order, read off an index:
-- the list names the street's (the path's second cell) or community's
-- (third) segment beside the path prefix. At a million tasks a page of a
-- community sorted its whole subtree first (95 ms); off this index it reads
-- the page's hundred entries.
CREATE INDEX tasks_street_idx ON tasks ((split_part(cell_path, '/', 3)), create_time, id);
CREATE INDEX tasks_community_idx ON tasks ((split_part(cell_path, '/', 4)), create_time, id);
