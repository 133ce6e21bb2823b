-- Coordinates for walking-radius coverage. The grid's compounds carry none,
-- so the centres service keeps its own for the compounds it is told of.
ALTER TABLE centres
    ADD COLUMN latitude  DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT centres_coordinates_whole CHECK ((latitude IS NULL) = (longitude IS NULL));

CREATE TABLE compound_coordinates (
    compound_id TEXT PRIMARY KEY,
    latitude    DOUBLE PRECISION NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude   DOUBLE PRECISION NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    set_by      TEXT        NOT NULL,
    update_time TIMESTAMPTZ NOT NULL
);
