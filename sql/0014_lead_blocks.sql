-- Migration 0014 (issue 12): the organization-and-name blocks of every resolved lead
-- ("d:acme.com|jo", as core.matching.resolve.name_blocks forms them), so a batch's neighbourhood
-- at an organization is an index lookup on the batch's own blocks instead of a read of everybody
-- at every organization the batch touches (which grew with the warehouse). Written by
-- deduplicated_accounts for the leads it clusters; a warehouse resolved before this migration is
-- backfilled by the first incremental pass (pipeline/resolve.py).
CREATE TABLE lead_blocks (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    block               TEXT NOT NULL,
    PRIMARY KEY (batch_key, row_id, block)
);
CREATE INDEX ix_lead_blocks_block ON lead_blocks (block);
