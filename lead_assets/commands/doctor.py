"""``lead-assets doctor``: show the resolved configuration and check what it points at."""

from __future__ import annotations

import argparse

HELP = (
    "Print the resolved configuration (secrets masked) and check that the warehouse and the "
    "Dagster instance storage are reachable."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: doctor only reads."""


def _check_warehouse() -> tuple[bool, str]:
    from sqlalchemy import text

    from lead_assets.settings import database_url, mask_url_password
    from lead_assets.warehouse import make_engine
    from lead_assets.warehouse.migrations import applied_versions, discover

    url = database_url()
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        pending = len({m.version for m in discover()} - applied_versions(engine))
        engine.dispose()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:300]
        return False, f"cannot reach the warehouse at {mask_url_password(url)}: {reason}"
    state = (
        "schema up to date"
        if pending == 0
        else f"{pending} migration(s) will be applied on first run"
    )
    return True, f"warehouse reachable at {mask_url_password(url)} ({state})"


def _check_dagster() -> tuple[bool, str]:
    import os

    from lead_assets.instance import ensure_dagster_home

    try:
        if not os.environ.get("DAGSTER_HOME"):
            ensure_dagster_home()
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            storage = type(instance.run_storage).__name__
            runs = instance.get_runs_count()
    except Exception as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return (
            False,
            f"cannot open the Dagster instance at DAGSTER_HOME={os.environ.get('DAGSTER_HOME')}: {reason}",
        )
    return (
        True,
        f"Dagster instance reachable ({storage}, {runs} runs) at {os.environ['DAGSTER_HOME']}",
    )


def run(args: argparse.Namespace) -> int:
    """Print configuration and checks; exit 1 if any check failed."""
    from lead_assets.settings import resolved_environment

    print("Configuration:")
    rows = resolved_environment()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("Checks:")
    ok_all = True
    for check in (_check_warehouse, _check_dagster):
        ok, message = check()
        ok_all &= ok
        print(f"  [{'ok' if ok else 'FAIL'}] {message}")
    return 0 if ok_all else 1
