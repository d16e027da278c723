-- lead_assets warehouse schema, migration 0001.
-- One source of truth for SQLite and PostgreSQL: only portable types (TEXT, INTEGER, BIGINT,
-- DOUBLE PRECISION, BOOLEAN, TIMESTAMP) and no engine-specific functions. JSON is stored as TEXT.
-- Tables are named after the Dagster assets; every per-batch table starts with batch_key so a
-- partition can be rewritten idempotently (delete its rows, insert, one transaction).

-- A lead batch = one dynamic partition: a dropped file (or a slice of one, or a group of small
-- files) or an ICP pull.
CREATE TABLE lead_batches (
    batch_key       TEXT PRIMARY KEY,
    source          TEXT NOT NULL,            -- 'file' | 'generect'
    origin          TEXT NOT NULL,            -- file path(s) or ICP profile name
    file_id         TEXT,                     -- content hash of the source file, when a file
    row_start       INTEGER,                  -- first data row of the file in this batch (1-based)
    row_end         INTEGER,                  -- last data row of the file in this batch
    rows_expected   INTEGER,
    state           TEXT NOT NULL,            -- registered | ingested | enriched | waiting_credits | done | failed
    detail          TEXT,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- File versions the file-drop sensor has seen: the sensor cursor stays tiny (design notes).
CREATE TABLE seen_files (
    path            TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    mtime_ns        BIGINT NOT NULL,
    state           TEXT NOT NULL,            -- pending | registered | archived | quarantined
    reason          TEXT,
    batch_keys      TEXT,                     -- JSON list
    first_seen_at   TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (path, content_hash)
);

CREATE TABLE raw_uploads (
    batch_key       TEXT NOT NULL,
    row_id          TEXT NOT NULL,            -- '<file_id[:16]>:<line_no>' or '<source>:<vendor id>'
    file_id         TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    line_no         INTEGER NOT NULL,         -- physical line (CSV) or record index (JSON), 1-based
    source          TEXT NOT NULL,
    raw_json        TEXT NOT NULL,            -- the row verbatim, keys as in the file
    parse_error     TEXT,                     -- set when the row itself was malformed
    loaded_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

CREATE TABLE standardized_leads (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    source              TEXT NOT NULL,
    status              TEXT NOT NULL,        -- ok | rejected
    reasons             TEXT,                 -- ';'-joined reason codes, empty when clean
    first_name          TEXT,
    middle_name         TEXT,
    last_name           TEXT,
    full_name           TEXT,
    email               TEXT,
    email_match_key     TEXT,
    email_domain        TEXT,
    email_is_role       BOOLEAN,
    email_is_free       BOOLEAN,
    email_is_disposable BOOLEAN,
    phone_e164          TEXT,
    phone_type          TEXT,                 -- mobile | fixed_line | fixed_line_or_mobile | voip | other
    title               TEXT,
    title_normalized    TEXT,
    seniority           TEXT,                 -- owner, founder, c_suite, partner, vp, head, director, manager, senior, entry, intern
    job_function        TEXT,
    company_name        TEXT,
    company_key         TEXT,
    domain              TEXT,
    city                TEXT,
    region              TEXT,
    country             TEXT,                 -- ISO 3166-1 alpha-2
    headcount_bucket    TEXT,                 -- vendor labels: 1-10 ... '10 000+'
    industry            TEXT,
    linkedin_url        TEXT,
    vendor_lead_id      TEXT,
    standardized_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

CREATE TABLE enriched_leads (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    email               TEXT,
    email_status        TEXT,                 -- valid | invalid | catch_all | unknown | disposable | webmail | do_not_mail
    email_status_raw    TEXT,
    phone_e164          TEXT,
    phone_status        TEXT,
    company_name        TEXT,
    domain              TEXT,
    industry            TEXT,
    headcount_bucket    TEXT,
    vendor_score        DOUBLE PRECISION,
    signals             TEXT,                 -- JSON list
    technologies        TEXT,                 -- JSON list
    field_sources       TEXT,                 -- JSON: field -> {source, at, cost, unit}
    spend_usd           DOUBLE PRECISION NOT NULL DEFAULT 0,
    spend_credits       DOUBLE PRECISION NOT NULL DEFAULT 0,
    enrichment_status   TEXT NOT NULL,        -- enriched | skipped | failed | waiting
    enrichment_detail   TEXT,
    enriched_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

-- Lead clusters (the same person) and accounts (the same company), global and incremental.
CREATE TABLE deduplicated_accounts (
    account_id          TEXT PRIMARY KEY,
    name                TEXT,
    company_key         TEXT,
    domain              TEXT,
    industry            TEXT,
    headcount_bucket    TEXT,
    country             TEXT,
    lead_count          INTEGER NOT NULL,
    field_sources       TEXT,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE lead_clusters (
    batch_key           TEXT NOT NULL,        -- batch of the member row
    row_id              TEXT NOT NULL,
    lead_cluster_id     TEXT NOT NULL,
    account_id          TEXT,
    link_confidence     DOUBLE PRECISION NOT NULL,
    link_rule           TEXT NOT NULL,
    is_survivor         BOOLEAN NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

CREATE TABLE qualified_leads (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    lead_cluster_id     TEXT,
    account_id          TEXT,
    status              TEXT NOT NULL,        -- QUALIFIED | REVIEW | DISQUALIFIED | FAILED
    score               DOUBLE PRECISION NOT NULL,
    reasons             TEXT NOT NULL,        -- JSON list of reason strings
    first_name          TEXT,
    last_name           TEXT,
    email               TEXT,
    email_status        TEXT,
    phone_e164          TEXT,
    title               TEXT,
    seniority           TEXT,
    company_name        TEXT,
    domain              TEXT,
    country             TEXT,
    scored_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (batch_key, row_id)
);

-- One row per paid call: reserved before the call, settled with the vendor's amount_charged.
CREATE TABLE spend_ledger (
    id                  TEXT PRIMARY KEY,
    vendor              TEXT NOT NULL,        -- generect | leedrush
    operation           TEXT NOT NULL,
    request_key         TEXT NOT NULL,
    estimate            DOUBLE PRECISION NOT NULL,
    amount              DOUBLE PRECISION NOT NULL DEFAULT 0,
    unit                TEXT NOT NULL,        -- usd | credits
    state               TEXT NOT NULL,        -- reserved | settled | released | unknown
    run_id              TEXT,
    batch_key           TEXT,
    detail              TEXT,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX ix_spend_ledger_request ON spend_ledger (vendor, operation, request_key);
CREATE INDEX ix_spend_ledger_created ON spend_ledger (created_at);

-- Answers of paid calls keyed by the normalized request: a repeat within the TTL is free.
CREATE TABLE api_cache (
    vendor              TEXT NOT NULL,
    operation           TEXT NOT NULL,
    request_key         TEXT NOT NULL,
    response_json       TEXT NOT NULL,
    amount              DOUBLE PRECISION NOT NULL,
    unit                TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (vendor, operation, request_key)
);

-- Leedrush batches submitted for a lead batch; polled by the batch-status sensor.
CREATE TABLE leedrush_submissions (
    batch_key           TEXT NOT NULL,
    leedrush_batch_id   TEXT NOT NULL,
    upload_filename     TEXT NOT NULL,
    status              TEXT NOT NULL,        -- queued | processing | completed | failed | collected | timed_out
    rows_total          INTEGER,
    rows_qualified      INTEGER,
    rows_failed         INTEGER,
    submitted_at        TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    detail              TEXT,
    PRIMARY KEY (batch_key, leedrush_batch_id)
);
