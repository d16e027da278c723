"""Robustness tests reuse the whole-pipeline fixture of the enrichment tests."""

from lead_assets_tests.dagster.conftest import landing, sqlite_instance  # noqa: F401
from lead_assets_tests.enrichment.conftest import pipeline_factory  # noqa: F401
