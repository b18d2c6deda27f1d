-- The per-cell, per-hour weather log (issue 20), as in SQLite's 0008_weather_log.sql: the
-- conditions the weather rules read, once per ~5 km grid cell and UTC hour, for backtests of
-- moments whose decision never fetched the weather. No person data. Pruned with traces.
CREATE TABLE weather_log (
    hour             BIGINT NOT NULL,
    cell_row         INTEGER NOT NULL,
    cell_col         INTEGER NOT NULL,
    temp_c           DOUBLE PRECISION NOT NULL,
    feels_like_c     DOUBLE PRECISION NOT NULL,
    precipitation_mm DOUBLE PRECISION NOT NULL,
    condition        TEXT NOT NULL,
    is_day           BOOLEAN NOT NULL,
    PRIMARY KEY (hour, cell_row, cell_col)
);
