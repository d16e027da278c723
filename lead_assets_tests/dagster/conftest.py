"""Fixtures for tests that run the Dagster layer against real instances."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest


@pytest.fixture
def sqlite_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A real (SQLite-backed) Dagster instance in a temporary DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def pg_instance(pg_dagster_url: str) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance whose run, event-log and schedule storage are PostgreSQL."""
    with dg.instance_for_test(
        overrides={"storage": {"postgres": {"postgres_url": pg_dagster_url}}}
    ) as instance:
        yield instance


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh landing folder configured for this test."""
    folder = tmp_path / "landing"
    folder.mkdir()
    monkeypatch.setenv("LEAD_ASSETS_LANDING_DIR", str(folder))
    return folder


@pytest.fixture
def warehouse_resource(warehouse_url: str):  # type: ignore[no-untyped-def]
    """The warehouse resource on each backend."""
    from lead_assets.resources.warehouse import WarehouseResource

    return WarehouseResource(database_url=warehouse_url)
