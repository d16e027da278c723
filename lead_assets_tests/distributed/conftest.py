"""Fixtures for distributed execution: a broker vhost of our own, PostgreSQL for the Dagster
instance and the warehouse, and two real ``celery worker`` processes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from lead_assets.distributed.local import (
    LocalWorker,
    distributed_environment,
    local_workers,
    rabbitmq_vhost,
)
from lead_assets.instance import embedded_instance_config
from lead_assets_tests.conftest import create_database, drop_database


@dataclass
class Cluster:
    """What a distributed test talks to."""

    instance: dg.DagsterInstance
    warehouse_url: str
    workers: list[LocalWorker]
    state: Path


def instance_overrides(dagster_url: str) -> dict:
    """The project's instance settings (pools, run retries, monitoring) on PostgreSQL storage."""
    config = embedded_instance_config()
    config.pop("run_coordinator", None)  # execute_job runs in the caller; nothing is queued
    config["storage"] = {"postgres": {"postgres_url": dagster_url}}
    return config


@pytest.fixture(scope="module")
def cluster(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two Celery workers (w1, w2) on an own RabbitMQ vhost; Dagster and the warehouse on
    PostgreSQL; the celery executor selected through the environment, as in production."""
    state = tmp_path_factory.mktemp("distributed")
    warehouse_url = create_database(pg_server, "lead_assets_dist_wh")
    dagster_db = create_database(pg_server, "lead_assets_dist_dg")
    dagster_url = (
        make_url(dagster_db)
        .set(drivername="postgresql+psycopg2")
        .render_as_string(hide_password=False)
    )
    saved = dict(os.environ)
    try:
        with rabbitmq_vhost("lead_assets_test") as broker:
            env = distributed_environment(broker)
            env.update(
                LEAD_ASSETS_DATABASE_URL=warehouse_url,
                LEAD_ASSETS_STATE_DIR=str(state),
                LEAD_ASSETS_LANDING_DIR=str(state / "landing"),
            )
            os.environ.update(env)
            (state / "dagster_home").mkdir()
            with (
                dg.instance_for_test(
                    overrides=instance_overrides(dagster_url), temp_dir=str(state / "dagster_home")
                ) as instance,
                local_workers(["w1", "w2"], env, state / "logs") as workers,
            ):
                yield Cluster(instance, warehouse_url, workers, state)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        drop_database(pg_server, dagster_db)
        drop_database(pg_server, warehouse_url)
