-- Console sessions (issue 17). Only a SHA-256 of the session token is kept; the row names
-- the key used to sign in and the rights it carried.
CREATE TABLE console_sessions (
    token_hash  BLOB PRIMARY KEY,
    key_id      TEXT NOT NULL,
    role        TEXT NOT NULL,
    brand_id    TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
