-- The per-cell, per-hour weather log (issue 20): the conditions the weather rules read, once
-- per ~5 km grid cell and UTC hour, for backtests of moments whose decision never fetched the
-- weather. No person data. Pruned with traces (trace retention).
CREATE TABLE weather_log (
    hour             INTEGER NOT NULL,
    cell_row         INTEGER NOT NULL,
    cell_col         INTEGER NOT NULL,
    temp_c           REAL NOT NULL,
    feels_like_c     REAL NOT NULL,
    precipitation_mm REAL NOT NULL,
    condition        TEXT NOT NULL,
    is_day           INTEGER NOT NULL,
    PRIMARY KEY (hour, cell_row, cell_col)
);
