-- People (pseudonymous, scoped to the app that reports them), their consent and profile,
-- and the decisions and deliveries of check-ins.

-- App keys speak for one app's users; several keys (rotation) can share an app.
ALTER TABLE api_keys ADD COLUMN app_id TEXT;

CREATE TABLE consents (
    app_id           TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    person           TEXT NOT NULL,   -- pseudonymous token: hash of (app_id, user_id)
    location         INTEGER NOT NULL,
    personalization  INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE UNIQUE INDEX consents_person ON consents (person);

CREATE TABLE consent_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    person           TEXT NOT NULL,
    location         INTEGER NOT NULL,
    personalization  INTEGER NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX consent_events_person ON consent_events (person, at);

-- The profile the events feed fills: follows, stated interests, purchases.
CREATE TABLE follows (
    person    TEXT NOT NULL,
    brand_id  TEXT NOT NULL,
    since     INTEGER NOT NULL,
    PRIMARY KEY (person, brand_id)
);

CREATE TABLE interests (
    person    TEXT NOT NULL,
    interest  TEXT NOT NULL,
    PRIMARY KEY (person, interest)
);

CREATE TABLE purchases (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    person    TEXT NOT NULL,
    brand_id  TEXT NOT NULL,
    sku       TEXT,
    category  TEXT,
    amount    REAL,
    currency  TEXT,
    channel   TEXT,
    fence_id  TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX purchases_person ON purchases (person, at);

CREATE TABLE decisions (
    app_id       TEXT NOT NULL,
    checkin_id   TEXT NOT NULL,
    person       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    at           INTEGER NOT NULL,
    decision     TEXT NOT NULL,     -- offer | none
    reason       TEXT,
    offer_id     TEXT,
    delivery_id  TEXT,
    response     TEXT NOT NULL,     -- the exact answer, replayed for a retried checkin_id
    trace        TEXT NOT NULL,
    latency_us   INTEGER NOT NULL,
    PRIMARY KEY (app_id, checkin_id)
);
CREATE INDEX decisions_person ON decisions (person, at);
CREATE INDEX decisions_at ON decisions (at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    app_id           TEXT NOT NULL,
    checkin_id       TEXT NOT NULL,
    person           TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    device_id        TEXT,
    brand_id         TEXT NOT NULL,
    offer_id         TEXT NOT NULL,
    fence_id         TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    redemption_code  TEXT UNIQUE,
    expires_at       INTEGER,
    status           TEXT NOT NULL,   -- delivered | opened | redeemed | dismissed | expired
    created_at       INTEGER NOT NULL
);
CREATE INDEX deliveries_brand ON deliveries (brand_id, created_at, id);
CREATE INDEX deliveries_person ON deliveries (person, created_at);
CREATE INDEX deliveries_offer ON deliveries (offer_id, created_at);
