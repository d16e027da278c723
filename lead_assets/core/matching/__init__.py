"""Entity resolution: lead clusters (the same person) and accounts (the same company)."""
