-- Feedback events (idempotent per app and event id), delivery lifecycle timestamps, traits,
-- and erasure receipts.
CREATE TABLE events (
    app_id       TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    person       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    brand_id     TEXT,
    delivery_id  TEXT,
    body         TEXT NOT NULL,
    PRIMARY KEY (app_id, event_id)
);
CREATE INDEX events_person ON events (person, occurred_at);

ALTER TABLE deliveries ADD COLUMN opened_at INTEGER;
ALTER TABLE deliveries ADD COLUMN dismissed_at INTEGER;
ALTER TABLE deliveries ADD COLUMN redeemed_at INTEGER;

CREATE TABLE traits (
    person      TEXT PRIMARY KEY,
    tier        TEXT,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX purchases_brand ON purchases (brand_id, person, at);
CREATE INDEX decisions_offer ON decisions (offer_id, reason);

-- Erasure leaves a receipt and nothing that points back at the person.
CREATE TABLE erasures (
    receipt  TEXT PRIMARY KEY,
    at       INTEGER NOT NULL
);
