"""The console script with production settings: the warehouse URL set (SQLite and PostgreSQL),
vendor settings missing, and an export with blank domains, phones, titles and companies."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lead_assets_tests.cli.test_cli import cli

BLANK_FIELDS = (
    "First Name,Last Name,Email,Phone Number,Company Name,Website URL,Job Title,Country\n"
    "Ann,Lee,ann.lee@acme-robotics.com,+1 415 555 0101,Acme Robotics,acme-robotics.com,VP Sales,US\n"
    "Bob,Ray,bob.ray@northwind.io,,,,,\n"
    "Cid,Moe,,,Beta Corp,,CTO,US\n"
    "Dee,Kay,,+1 415 555 0199,,,,\n"
    "Eve,Fox,eve.fox@gmail.com,,,  ,Engineer,\n"
    "Fay,Orr,fay@initech.com,   ,Initech,,,DE\n"
    ",,,,,,,\n"
    "Gus,Poe,gus.poe@globex.com,,Globex,,   ,\n"
)


def _env(tmp_path: Path, sandbox_env: dict[str, str], url: str | None) -> dict[str, str]:
    env = {**os.environ, **sandbox_env, "LEAD_ASSETS_STATE_DIR": str(tmp_path / "state")}
    for var in ("DAGSTER_HOME", "LEAD_ASSETS_LANDING_DIR", "LEAD_ASSETS_OUTBOX_DIR"):
        env.pop(var, None)
    env.pop("LEAD_ASSETS_DATABASE_URL", None)
    if url:
        env["LEAD_ASSETS_DATABASE_URL"] = url
    return env


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_run_and_plan_with_the_warehouse_url_set_and_blank_fields(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from sqlalchemy import create_engine, text

    from lead_assets.sandbox.server import running_sandbox

    url = (
        f"sqlite:///{tmp_path / 'prod-warehouse.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_database")
    )
    source = tmp_path / "hubspot_blank.csv"
    source.write_text(BLANK_FIELDS)
    with running_sandbox() as sandbox:
        env = _env(tmp_path, sandbox.environment(), url)
        plan = cli("plan", str(source), env=env)
        assert plan.returncode == 0, plan.stderr[-3000:]
        assert "total estimate" in plan.stdout and "Could not parse" not in plan.stderr
        result = cli("run", str(source), "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    [row] = [r for r in records if r["status"] != "run_total"]  # plus the run's spend line
    assert row["status"] == "done" and row["rows_in"] == 8  # the blank line is not a row
    # Every row ends in exactly one outcome, and every rejection has a reason.
    assert row["rows_in"] == row["ok"] + row["rejected"]
    assert row["ok"] == row["qualified"] + row["review"] + row["disqualified"] + row["failed"]
    assert sum(row["reasons"].values()) == row["rejected"]
    # The run wrote to the configured warehouse, not to the embedded default.
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT COUNT(*) FROM qualified_leads WHERE batch_key = :k"), {"k": row["batch"]}
        ).scalar_one()
    engine.dispose()
    assert n == row["ok"]
    assert not (tmp_path / "state" / "warehouse.sqlite").exists()


def test_missing_vendor_settings_are_one_sentence(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(BLANK_FIELDS)
    env = _env(tmp_path, {}, f"sqlite:///{tmp_path / 'w.sqlite'}")
    for var in ("LEEDRUSH_EMAIL", "LEEDRUSH_PASSWORD", "GENERECT_API_KEY"):
        env.pop(var, None)
    env["LEEDRUSH_PASSWORD"] = "   "  # blank counts as missing
    result = cli("run", str(source), env=env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    message = lines[0]
    for var in ("GENERECT_API_KEY", "LEEDRUSH_EMAIL", "LEEDRUSH_PASSWORD"):
        assert var in message
    assert "lead-assets sandbox" in message and "LEEDRUSH_BASE_URL=" in message
    # plan still estimates, and says why balances are unavailable in one line.
    plan = cli("plan", str(source), env=env)
    assert plan.returncode == 0 and "Traceback" not in plan.stderr
    assert "LEEDRUSH_EMAIL" in plan.stderr and "total estimate" in plan.stdout


def test_every_command_resolves_resources_through_one_helper() -> None:
    # Guard against a command taking defs.resources[...] (unresolved EnvVars) directly.
    root = Path(__file__).resolve().parents[2] / "lead_assets"
    offenders = [
        str(p.relative_to(root))
        for p in [*root.joinpath("commands").glob("*.py"), root / "demo.py"]
        if 'defs.resources["' in p.read_text() and p.name != "resources.py"
    ]
    assert offenders == []
