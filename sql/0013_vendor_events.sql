-- Vendor webhook deliveries (issue 13): one row per verified event, idempotent by (vendor, event_id).
-- The receiver (`lead-assets webhooks`) writes; the batch-status and ops-alert sensors read.
CREATE TABLE vendor_events (
    vendor              TEXT NOT NULL,        -- generect | leedrush
    event_id            TEXT NOT NULL,        -- the vendor's delivery id, else a hash of the body
    event               TEXT NOT NULL,        -- batch.completed, credits.low, ...
    batch_id            TEXT,                 -- the vendor's batch / job id, when the event has one
    payload             TEXT NOT NULL,        -- the verified body (counts and ids; no lead rows)
    received_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (vendor, event_id)
);
CREATE INDEX ix_vendor_events_received ON vendor_events (received_at);
