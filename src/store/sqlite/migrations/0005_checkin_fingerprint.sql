-- A check-in id is one report of one user: the fingerprint (a hash of the app, the user
-- and every field of the report) tells a retry (same fingerprint) from another report
-- reusing the id (409 checkin-id-reused). Rows recorded before it have none; for them the
-- user id decides.
ALTER TABLE decisions ADD COLUMN fingerprint TEXT;
