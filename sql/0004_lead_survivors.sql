-- Migration 0004: one golden record per lead cluster, chosen field by field (most trusted source,
-- then most recent, then most complete); field_sources names the record each field came from.
CREATE TABLE lead_survivors (
    lead_cluster_id     TEXT PRIMARY KEY,
    first_name          TEXT,
    last_name           TEXT,
    email_match_key     TEXT,
    phone_e164          TEXT,
    title_normalized    TEXT,
    company_name        TEXT,
    domain              TEXT,
    country             TEXT,
    linkedin_url        TEXT,
    field_sources       TEXT NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
