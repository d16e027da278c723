"""Dagster resources: thin typed wrappers that hand out clients and engines."""
