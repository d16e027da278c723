"""``make demo-distributed``: the demo with every step on two local Celery workers.

The same flow as ``make demo`` (ICP pull, file drops, credit-aware enrichment, Leedrush polling,
collection, then a backfill that buys nothing), but: Dagster's storage and the warehouse are
PostgreSQL (a throwaway cluster from the machine's binaries, or ``LEAD_ASSETS_DEMO_PG_URL``, with
databases of its own dropped afterwards), the broker is RabbitMQ (an own vhost) or Redis
(``LEAD_ASSETS_DEMO_BROKER=redis``, an own database number), and two ``celery worker``
processes (w1, w2) run the steps. It ends with ``workers: w1@host=N, w2@host=M``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import yaml
from psycopg import sql
from sqlalchemy.engine import make_url

from lead_assets.distributed.local import broker_namespace, distributed_environment, local_workers
from lead_assets.instance import PRODUCTION_CONFIG
from lead_assets.settings import PROJECT_ROOT, demo_broker, demo_pg_url

WORKERS = ["w1", "w2"]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: ``LEAD_ASSETS_DEMO_PG_URL`` or a throwaway cluster."""
    configured = demo_pg_url()
    if configured:
        yield configured
        return
    # The suite's throwaway cluster (initdb + pg_ctl on a free port, deleted afterwards).
    from lead_assets.warehouse.throwaway_pg import ThrowawayCluster

    cluster = ThrowawayCluster.start()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextmanager
def own_database(server_url: str, prefix: str) -> Iterator[str]:
    """A fresh database on ``server_url`` (dropped afterwards); yields its psycopg URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_url(server_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield (
            make_url(server_url)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(False)
        )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def write_instance(home: Path, dagster_url: str) -> None:
    """DAGSTER_HOME/dagster.yaml: the production settings on this PostgreSQL database."""
    config = yaml.safe_load(PRODUCTION_CONFIG.read_text())
    psycopg2_url = make_url(dagster_url).set(drivername="postgresql+psycopg2")
    config["storage"] = {"postgres": {"postgres_url": psycopg2_url.render_as_string(False)}}
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def main() -> int:
    """Run the distributed demo; print the usual summaries and the steps per worker."""
    state = PROJECT_ROOT / ".state" / "demo_distributed"
    shutil.rmtree(state, ignore_errors=True)
    for var in ("LEAD_ASSETS_LANDING_DIR", "LEAD_ASSETS_OUTBOX_DIR"):
        os.environ.pop(var, None)
    logging.getLogger("dagster").setLevel(logging.WARNING)
    broker_kind = demo_broker()
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server())
        warehouse_url = stack.enter_context(own_database(server, "lead_assets_demo_wh"))
        dagster_url = stack.enter_context(own_database(server, "lead_assets_demo_dagster"))
        broker = stack.enter_context(broker_namespace(broker_kind))
        home = state / "dagster_home"
        write_instance(home, dagster_url)
        os.environ.update(
            distributed_environment(broker, {}),
            LEAD_ASSETS_STATE_DIR=str(state),
            LEAD_ASSETS_DATABASE_URL=warehouse_url,
            DAGSTER_HOME=str(home),
        )

        from lead_assets import demo
        from lead_assets.sandbox.generect import GenerectSandboxConfig
        from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
        from lead_assets.sandbox.server import running_sandbox

        print(f"lead_assets distributed demo (state in {state})")
        print(f"PostgreSQL: {make_url(server).render_as_string(hide_password=True)}")
        print(f"broker: {broker_kind} {make_url(broker).render_as_string(hide_password=True)}")
        sandbox = stack.enter_context(
            running_sandbox(
                GenerectSandboxConfig(balance=25.0),
                LeedrushSandboxConfig(plan="starter", credits=5000, time_scale=0.2),
            )
        )
        os.environ.update(sandbox.environment())
        workers = stack.enter_context(local_workers(WORKERS, os.environ, state / "logs"))
        print(
            "celery workers: " + ", ".join(f"{w.hostname} (pid {w.process.pid})" for w in workers)
        )
        code = demo._run(sandbox)
        print(workers_summary())
        return code
    return 1


def workers_summary() -> str:
    """The ``workers: ...`` line over every run of the instance."""
    import dagster as dg

    from lead_assets.distributed.runs import step_placements, steps_per_worker, workers_line

    with dg.DagsterInstance.get() as instance:
        run_ids = [r.run_id for r in instance.get_runs()]
        counts = steps_per_worker(step_placements(instance, run_ids))
    for name in WORKERS:  # a worker that ran nothing is shown with 0, not hidden
        host = f"{name}@{os.uname().nodename}"
        counts.setdefault(host, 0)
    return workers_line(counts)


if __name__ == "__main__":
    sys.exit(main())
