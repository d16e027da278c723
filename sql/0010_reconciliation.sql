-- Reconciliation of ambiguous paid calls and recovery of killed runs (issue 10).

-- The items one reservation paid for (one lead's find, a chunk of addresses, one domain): an item
-- listed here is awaiting reconciliation and is never bought again until its charge is decided.
CREATE TABLE ledger_items (
    vendor              TEXT NOT NULL,
    operation           TEXT NOT NULL,
    request_key         TEXT NOT NULL,
    item_key            TEXT NOT NULL,
    batch_key           TEXT,
    created_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (vendor, operation, request_key, item_key)
);
CREATE INDEX ix_ledger_items_batch ON ledger_items (batch_key);

-- Which process runs which paid step: a run whose process is gone left its batch to be resumed
-- and its in-flight reservations to be reconciled.
CREATE TABLE run_leases (
    run_id              TEXT PRIMARY KEY,
    batch_key           TEXT,
    host                TEXT NOT NULL,
    pid                 INTEGER NOT NULL,
    started_at          TIMESTAMP NOT NULL
);

-- The evidence behind a reconciliation decision (the vendor transaction or batch it matched, or
-- what was searched when nothing matched), as JSON.
ALTER TABLE spend_ledger ADD COLUMN evidence TEXT;

-- How often a batch was resumed after its run died (bounded, so a batch whose run fails for a
-- reason of its own is not relaunched forever), and the collect attempt a resumed collect is on.
ALTER TABLE lead_batches ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leedrush_submissions ADD COLUMN collect_attempt INTEGER NOT NULL DEFAULT 0;

-- The reconcile pass (every credits-sensor tick) looks for undecided rows only.
CREATE INDEX ix_spend_ledger_state ON spend_ledger (state);
