-- Migration 0011 (issue 11): never pay twice for the same person.
-- What each lead of a batch reuses instead of buying, decided before any paid call: an earlier
-- batch's enrichment of the same person (known_person), the lead of this batch bought for the
-- same person (batch_duplicate), or a cached Leedrush result for the same address (leedrush_cache).
CREATE TABLE lead_reuse (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    scope               TEXT NOT NULL,        -- person (no vendor at all) | leedrush (Leedrush only)
    kind                TEXT NOT NULL,        -- known_person | batch_duplicate | leedrush_cache
    source_batch_key    TEXT,
    source_row_id       TEXT,
    lead_cluster_id     TEXT,
    source_at           TIMESTAMP,            -- when the reused answer was bought
    answer_json         TEXT,                 -- leedrush_cache: the cached result
    decided_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, scope, row_id)
);

-- What the cache and resolve-before-buy avoided buying, per batch, vendor and reason.
CREATE TABLE batch_savings (
    batch_key           TEXT NOT NULL,
    vendor              TEXT NOT NULL,
    reason              TEXT NOT NULL,        -- cache | known_person | batch_duplicate
    unit                TEXT NOT NULL,        -- usd | credits
    items               INTEGER NOT NULL,
    amount              DOUBLE PRECISION NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, vendor, reason)
);
