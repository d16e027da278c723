-- A finished ICP pull (issue 13): icp_prospects is partitioned apart from the lead batches, so
-- ingestion is a run of its own; the file-drop sensor requests it for a batch listed here.
-- A pull that failed part way is not listed: its re-run continues from the pages it kept.
CREATE TABLE icp_pulls_done (
    batch_key   TEXT PRIMARY KEY,
    leads       INTEGER NOT NULL,
    finished_at TIMESTAMP NOT NULL
);
