-- Migration 0002: per-vendor results kept apart from the merged enriched_leads, so each field's
-- source can be traced and a vendor step can be re-run without touching the other's answers.

CREATE TABLE generect_enrichment (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    email               TEXT,                 -- found (email find) or as given
    email_source        TEXT,                 -- input | generect_find
    email_status        TEXT,                 -- internal enum
    email_status_raw    TEXT,
    email_catch_all     BOOLEAN,
    company_name        TEXT,
    industry            TEXT,
    headcount_bucket    TEXT,
    company_linkedin_id TEXT,
    actions             TEXT,                 -- ';'-joined: find, validate, company, cache hits marked *_cached
    spend_usd           DOUBLE PRECISION NOT NULL DEFAULT 0,
    cache_hits          INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL,        -- enriched | skipped | blocked_dnc | failed
    detail              TEXT,
    enriched_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

CREATE TABLE leedrush_results (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    leedrush_batch_id   TEXT,
    qualified           BOOLEAN NOT NULL,
    score               DOUBLE PRECISION,
    email               TEXT,
    email_status        TEXT,
    email_status_raw    TEXT,
    phone               TEXT,
    phone_status        TEXT,
    title_normalized    TEXT,
    signals             TEXT,                 -- JSON list
    technologies        TEXT,                 -- JSON list
    dedup_confidence    DOUBLE PRECISION,
    collected_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

-- Leads pulled by an ICP profile, before they become raw_uploads rows of their batch.
CREATE TABLE icp_prospects (
    batch_key           TEXT NOT NULL,
    lead_id             TEXT NOT NULL,
    profile             TEXT NOT NULL,
    raw_json            TEXT NOT NULL,
    pulled_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, lead_id)
);

-- Profile cursors of the Generect counts sensor live here rather than in the tick cursor.
CREATE TABLE icp_counts (
    profile             TEXT NOT NULL,
    counted_at          TIMESTAMP NOT NULL,
    results_count       BIGINT NOT NULL,
    PRIMARY KEY (profile, counted_at)
);

-- Files in the landing folder seen but not yet complete: size and mtime at the last pass. Kept
-- here, not in the sensor cursor, so the cursor stays tiny even with thousands of files waiting.
CREATE TABLE landing_observations (
    path                TEXT PRIMARY KEY,
    size_bytes          BIGINT NOT NULL,
    mtime_ns            BIGINT NOT NULL,
    observed_at         TIMESTAMP NOT NULL
);

-- How many times a batch went back to waiting for credits: the enrich run key names the round.
ALTER TABLE lead_batches ADD COLUMN enrich_round INTEGER NOT NULL DEFAULT 0;
