"""lead_assets: scheduled B2B lead enrichment as Dagster assets."""
