"""Software-defined assets, one module per stage; each is a thin wrapper over lead_assets.pipeline."""
