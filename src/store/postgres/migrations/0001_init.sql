-- geoffer on PostgreSQL: the same tables and columns as the SQLite store (times are Unix
-- milliseconds, UTC; ids are text), so both backends answer alike. Text that is paged or
-- compared by key uses the "C" collation: byte order, as SQLite compares, whatever the
-- database's default collation is.

CREATE TABLE brands (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    secret_hash  BYTEA NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'brand', 'app', 'support')),
    brand_id     TEXT COLLATE "C" REFERENCES brands(id),
    app_id       TEXT,
    created_at   BIGINT NOT NULL,
    CHECK ((role = 'brand') = (brand_id IS NOT NULL))
);

CREATE TABLE geofences (
    id              TEXT COLLATE "C" PRIMARY KEY,   -- UUID v7: sorts by creation
    brand_id        TEXT COLLATE "C" NOT NULL REFERENCES brands(id),
    name            TEXT NOT NULL,
    geometry        TEXT NOT NULL,                  -- GeoJSON geometry
    radius_m        DOUBLE PRECISION,
    timezone        TEXT NOT NULL,
    tags            TEXT NOT NULL,                  -- JSON array, mirrored in geofence_tags
    external_id     TEXT,
    max_accuracy_m  DOUBLE PRECISION NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX geofences_brand ON geofences (brand_id, id);
CREATE UNIQUE INDEX geofences_external ON geofences (brand_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE geofence_tags (
    fence_id  TEXT COLLATE "C" NOT NULL REFERENCES geofences(id) ON DELETE CASCADE,
    brand_id  TEXT COLLATE "C" NOT NULL,
    tag       TEXT NOT NULL,
    PRIMARY KEY (fence_id, tag)
);
CREATE INDEX geofence_tags_lookup ON geofence_tags (brand_id, tag, fence_id);

CREATE TABLE offers (
    id            TEXT COLLATE "C" PRIMARY KEY,
    brand_id      TEXT COLLATE "C" NOT NULL REFERENCES brands(id),
    spec_version  BIGINT NOT NULL,
    spec          TEXT NOT NULL,                    -- the versioned offer document
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    deleted_at    BIGINT                            -- retired offers stay for results and audit
);
CREATE INDEX offers_brand ON offers (brand_id, id);

CREATE TABLE audit_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
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

-- The catalog's change log: one row per committed change to a brand, fence or offer, written
-- in the change's own transaction. Replicas read it after a NOTIFY on `geoffer_catalog` and
-- on a timer, from the last `seq` they applied. Writers take one transaction-level advisory
-- lock before they add a row, so rows become visible in `seq` order and a reader that
-- resumes after the highest `seq` it saw skips nothing.
CREATE TABLE catalog_changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    entity     TEXT NOT NULL CHECK (entity IN ('brand', 'fence', 'offer')),
    brand_id   TEXT COLLATE "C" NOT NULL,
    entity_id  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE consents (
    app_id           TEXT COLLATE "C" NOT NULL,
    user_id          TEXT COLLATE "C" NOT NULL,
    person           TEXT COLLATE "C" NOT NULL,   -- pseudonymous token: hash of (app_id, user_id)
    location         BOOLEAN NOT NULL,
    personalization  BOOLEAN NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE UNIQUE INDEX consents_person ON consents (person);

CREATE TABLE consent_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person           TEXT COLLATE "C" NOT NULL,
    location         BOOLEAN NOT NULL,
    personalization  BOOLEAN NOT NULL,
    at               BIGINT NOT NULL
);
CREATE INDEX consent_events_person ON consent_events (person, at);

CREATE TABLE follows (
    person    TEXT COLLATE "C" NOT NULL,
    brand_id  TEXT COLLATE "C" NOT NULL,
    since     BIGINT NOT NULL,
    PRIMARY KEY (person, brand_id)
);

CREATE TABLE interests (
    person    TEXT COLLATE "C" NOT NULL,
    interest  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person, interest)
);

CREATE TABLE purchases (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person    TEXT COLLATE "C" NOT NULL,
    brand_id  TEXT COLLATE "C" NOT NULL,
    sku       TEXT,
    category  TEXT,
    amount    DOUBLE PRECISION,
    currency  TEXT,
    channel   TEXT,
    fence_id  TEXT,
    at        BIGINT NOT NULL
);
CREATE INDEX purchases_person ON purchases (person, at);
CREATE INDEX purchases_brand ON purchases (brand_id, person, at);

CREATE TABLE traits (
    person      TEXT COLLATE "C" PRIMARY KEY,
    tier        TEXT,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE decisions (
    app_id           TEXT COLLATE "C" NOT NULL,
    checkin_id       TEXT COLLATE "C" NOT NULL,
    person           TEXT COLLATE "C" NOT NULL,
    user_id          TEXT COLLATE "C" NOT NULL,
    at               BIGINT NOT NULL,
    decision         TEXT NOT NULL,     -- offer | none
    reason           TEXT,
    offer_id         TEXT COLLATE "C",
    delivery_id      TEXT COLLATE "C",
    response         TEXT NOT NULL,     -- the exact answer, replayed for a retried checkin_id
    trace            BYTEA NOT NULL,    -- JSON, zstd-compressed when large
    latency_us       BIGINT NOT NULL,
    fingerprint      TEXT,
    trace_purged_at  BIGINT,
    PRIMARY KEY (app_id, checkin_id)
);
CREATE INDEX decisions_person ON decisions (person, at);
CREATE INDEX decisions_at ON decisions (at);
CREATE INDEX decisions_offer ON decisions (offer_id, reason);
CREATE INDEX decisions_checkin ON decisions (checkin_id);
CREATE INDEX decisions_trace_kept ON decisions (at) WHERE trace_purged_at IS NULL;

CREATE TABLE decision_brands (
    app_id      TEXT COLLATE "C" NOT NULL,
    checkin_id  TEXT COLLATE "C" NOT NULL,
    brand_id    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (app_id, checkin_id, brand_id)
);

CREATE TABLE deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    app_id           TEXT COLLATE "C" NOT NULL,
    checkin_id       TEXT COLLATE "C" NOT NULL,
    person           TEXT COLLATE "C" NOT NULL,
    user_id          TEXT COLLATE "C" NOT NULL,
    device_id        TEXT,
    brand_id         TEXT COLLATE "C" NOT NULL,
    offer_id         TEXT COLLATE "C" NOT NULL,
    fence_id         TEXT COLLATE "C" NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    redemption_code  TEXT UNIQUE,
    expires_at       BIGINT,
    status           TEXT COLLATE "C" NOT NULL,  -- delivered | opened | redeemed | dismissed | expired
    created_at       BIGINT NOT NULL,
    opened_at        BIGINT,
    dismissed_at     BIGINT,
    redeemed_at      BIGINT
);
CREATE INDEX deliveries_created ON deliveries (created_at, id);
CREATE INDEX deliveries_brand ON deliveries (brand_id, created_at, id);
CREATE INDEX deliveries_person ON deliveries (person, created_at, id);
CREATE INDEX deliveries_offer ON deliveries (offer_id, created_at, id);
CREATE INDEX deliveries_fence ON deliveries (fence_id, created_at, id);
CREATE INDEX deliveries_status ON deliveries (status, created_at, id);

CREATE TABLE events (
    app_id       TEXT COLLATE "C" NOT NULL,
    event_id     TEXT COLLATE "C" NOT NULL,
    person       TEXT COLLATE "C" NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    brand_id     TEXT,
    delivery_id  TEXT,
    body         TEXT NOT NULL,
    PRIMARY KEY (app_id, event_id)
);
CREATE INDEX events_person ON events (person, occurred_at);

CREATE TABLE erasures (
    receipt  TEXT PRIMARY KEY,
    at       BIGINT NOT NULL
);

CREATE TABLE audit_reads (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    role      TEXT NOT NULL,
    brand_id  TEXT,
    what      TEXT NOT NULL,
    app_id    TEXT,
    subject   TEXT,
    query     TEXT NOT NULL
);
CREATE INDEX audit_reads_at ON audit_reads (at);
CREATE INDEX audit_reads_subject ON audit_reads (subject);

-- /readyz's write probe: one row, rewritten on every probe, so a database that cannot
-- commit (a read-only standby, a full disk) fails readiness before it fails decisions.
CREATE TABLE write_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  BIGINT NOT NULL
);
