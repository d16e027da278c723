"""Pipeline steps shared by the Dagster assets, the sensors and the CLI (warehouse + core; no Dagster)."""
