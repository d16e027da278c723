"""Local Generect and Leedrush servers that follow the contracts, with seeded data and faults."""
