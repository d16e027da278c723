-- The vendor's id of a submitted asynchronous job (a Generect bulk job) as a column of its own
-- (issue 15). It was kept in `detail` as "<reservation id>|<job id>", and read back by splitting
-- the string; `detail` stays the free-text note of the row's last state change.
ALTER TABLE spend_ledger ADD COLUMN job_id TEXT;

-- Rows written before this migration: the reservation id of the old format is the row's own id,
-- so the job id is what follows "<id>|" (SUBSTR, LENGTH and || mean the same on SQLite and
-- PostgreSQL; no LIKE, whose % the PostgreSQL driver would take for a placeholder). `detail` is
-- left as it was, as the row's history.
UPDATE spend_ledger SET job_id = SUBSTR(detail, LENGTH(id) + 2)
    WHERE job_id IS NULL AND SUBSTR(detail, 1, LENGTH(id) + 1) = id || '|';
