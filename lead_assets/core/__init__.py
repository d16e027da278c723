"""Pure logic: parsing, normalizing, matching, scoring, planning. No Dagster, no HTTP."""
