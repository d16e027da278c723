-- Every paid call checks the budgets inside its reservation's write transaction (issue 12:
-- `lead-assets run` on 100k leads). These covering indexes let the run and day sums read only
-- the index entries of that run or day, instead of every open or settled row of the ledger.
CREATE INDEX ix_spend_ledger_run ON spend_ledger (run_id, unit, state, amount, estimate);
CREATE INDEX ix_spend_ledger_unit_day ON spend_ledger (unit, created_at, state, amount, estimate);
