-- Brands, keys, fences, offers and the admin audit log. Times are Unix milliseconds (UTC).
CREATE TABLE brands (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    secret_hash  BLOB NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'brand', 'app', 'support')),
    brand_id     TEXT REFERENCES brands(id),
    created_at   INTEGER NOT NULL,
    CHECK ((role = 'brand') = (brand_id IS NOT NULL))
);

CREATE TABLE geofences (
    id              TEXT PRIMARY KEY,          -- UUID v7: sorts by creation
    brand_id        TEXT NOT NULL REFERENCES brands(id),
    name            TEXT NOT NULL,
    geometry        TEXT NOT NULL,             -- GeoJSON geometry
    radius_m        REAL,
    timezone        TEXT NOT NULL,
    tags            TEXT NOT NULL,             -- JSON array, mirrored in geofence_tags for filtering
    external_id     TEXT,
    max_accuracy_m  REAL NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
);
CREATE INDEX geofences_brand ON geofences (brand_id, id);
CREATE UNIQUE INDEX geofences_external ON geofences (brand_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE geofence_tags (
    fence_id  TEXT NOT NULL REFERENCES geofences(id) ON DELETE CASCADE,
    brand_id  TEXT NOT NULL,
    tag       TEXT NOT NULL,
    PRIMARY KEY (fence_id, tag)
);
CREATE INDEX geofence_tags_lookup ON geofence_tags (brand_id, tag, fence_id);

CREATE TABLE offers (
    id            TEXT PRIMARY KEY,
    brand_id      TEXT NOT NULL REFERENCES brands(id),
    spec_version  INTEGER NOT NULL,
    spec          TEXT NOT NULL,               -- the versioned offer document
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    deleted_at    INTEGER                      -- retired offers stay for results and audit
);
CREATE INDEX offers_brand ON offers (brand_id, id);

CREATE TABLE audit_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    role       TEXT NOT NULL,
    brand_id   TEXT,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_changes_brand ON audit_changes (brand_id, id);
