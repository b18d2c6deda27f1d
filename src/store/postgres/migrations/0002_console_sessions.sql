-- Console sessions (issue 17): in the shared database, so a signed-in browser can land on
-- any replica. Only a SHA-256 of the session token is kept.
CREATE TABLE console_sessions (
    token_hash  BYTEA PRIMARY KEY,
    key_id      TEXT NOT NULL,
    role        TEXT NOT NULL,
    brand_id    TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
