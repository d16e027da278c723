-- Migration 0014 (issue 12): what the incremental deduplicated_accounts pass keeps so that its cost
-- grows with the batch, not with the warehouse. Written by pipeline/resolve.py for the leads it
-- clusters; a warehouse resolved before this migration is backfilled by its first pass.
--
-- lead_blocks: the organization-and-name blocks of every resolved lead ("d:acme.com|jo", as
-- core.matching.resolve.name_blocks forms them), so a batch's neighbourhood at an organization is
-- an index lookup on the batch's own blocks, not a read of everybody at each organization touched.
CREATE TABLE lead_blocks (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    block               TEXT NOT NULL,
    PRIMARY KEY (batch_key, row_id, block)
);
CREATE INDEX ix_lead_blocks_block ON lead_blocks (block);
-- account_members: the account fields each resolved lead gave its account (enrichment's industry
-- and headcount preferred), so a lead that moves takes back exactly the votes it gave.
CREATE TABLE account_members (
    batch_key           TEXT NOT NULL,
    row_id              TEXT NOT NULL,
    account_id          TEXT NOT NULL,
    lead_cluster_id     TEXT NOT NULL,
    name                TEXT,
    company_key         TEXT,
    domain              TEXT,
    industry            TEXT,
    headcount_bucket    TEXT,
    country             TEXT,
    PRIMARY KEY (batch_key, row_id)
);
CREATE INDEX ix_account_members_account ON account_members (account_id, lead_cluster_id);
-- account_votes: per account, field and value, how many of its leads have that value; an account
-- is rebuilt from its votes (most votes, ties to the smallest value) instead of from every member.
CREATE TABLE account_votes (
    account_id          TEXT NOT NULL,
    field               TEXT NOT NULL,
    value               TEXT NOT NULL,
    leads               INTEGER NOT NULL,
    PRIMARY KEY (account_id, field, value)
);
