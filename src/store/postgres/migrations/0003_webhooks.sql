-- Brands' webhooks (issue 19), as in SQLite's 0007_webhooks.sql: endpoints, the outbox (one row per endpoint and event,
-- written in the transaction of the record that reports the event) and each attempt.
CREATE TABLE webhook_endpoints (
    id                    TEXT PRIMARY KEY,
    brand_id              TEXT NOT NULL REFERENCES brands (id),
    url                   TEXT NOT NULL,
    -- A JSON array of event type names; subscribers are found by the quoted name.
    event_types           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until BIGINT,
    status                TEXT NOT NULL,
    disabled_reason       TEXT,
    consecutive_failures  BIGINT NOT NULL DEFAULT 0,
    failing_since         BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_brand ON webhook_endpoints (brand_id, status);

CREATE TABLE webhook_outbox (
    id              BIGSERIAL PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    -- `webhook-id`: stable per event, so receivers deduplicate retries and replays.
    msg_id          TEXT NOT NULL,
    brand_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    -- Whom the event is about (erasure deletes the person's rows and their attempts).
    person          TEXT,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- Pending: when it is due (or leased until); NULL once delivered or given up.
    next_attempt_at BIGINT,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    delivered_at    BIGINT,
    UNIQUE (endpoint_id, msg_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_outbox_person ON webhook_outbox (person) WHERE person IS NOT NULL;

CREATE TABLE webhook_attempts (
    id          TEXT COLLATE "C" PRIMARY KEY,
    outbox_id   BIGINT NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL,
    at          BIGINT NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT NOT NULL
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts (outbox_id);
