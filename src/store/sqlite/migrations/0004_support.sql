-- Support reads: keyset paging of deliveries, which brands a decision involved, the log of
-- support reads, and trace retention.

-- Deliveries page newest first on (created_at, id). Every filter gets an index that ends in
-- the same two columns, so a deep page is an index seek, not a scan of everything newer.
CREATE INDEX deliveries_created ON deliveries (created_at, id);
DROP INDEX deliveries_person;
CREATE INDEX deliveries_person ON deliveries (person, created_at, id);
DROP INDEX deliveries_offer;
CREATE INDEX deliveries_offer ON deliveries (offer_id, created_at, id);
CREATE INDEX deliveries_fence ON deliveries (fence_id, created_at, id);
CREATE INDEX deliveries_status ON deliveries (status, created_at, id);

-- The brands whose fences a decision matched (so whose offers it weighed). Brand keys see a
-- decision only through this table; it outlives the trace, which retention purges.
CREATE TABLE decision_brands (
    app_id      TEXT NOT NULL,
    checkin_id  TEXT NOT NULL,
    brand_id    TEXT NOT NULL,
    PRIMARY KEY (app_id, checkin_id, brand_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO decision_brands (app_id, checkin_id, brand_id)
SELECT d.app_id, d.checkin_id, json_extract(f.value, '$.brand')
FROM decisions d, json_each(d.trace, '$.fences') f
WHERE json_valid(d.trace) AND json_extract(f.value, '$.brand') IS NOT NULL;

-- Set when retention replaced the trace with JSON `null`; the decision row itself stays.
ALTER TABLE decisions ADD COLUMN trace_purged_at INTEGER;
-- Only traces still kept are candidates for the purge, so its scan does not grow with history.
CREATE INDEX decisions_trace_kept ON decisions (at) WHERE trace_purged_at IS NULL;

-- Every read of a person's data through the support API: who looked at whom, when.
CREATE TABLE audit_reads (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    key_id    TEXT NOT NULL,
    role      TEXT NOT NULL,
    brand_id  TEXT,               -- the reader's brand, for brand keys
    what      TEXT NOT NULL,      -- deliveries | delivery | decision | timeline | export
    app_id    TEXT,               -- the app the subject's user id belongs to
    subject   TEXT,               -- user id, check-in id or delivery id; NULL: many people
    query     TEXT NOT NULL       -- the query string as sent
);
CREATE INDEX audit_reads_at ON audit_reads (at);
