"""The console script as a user runs it: a real subprocess against a temporary state folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lead_assets.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_help_lists_every_command() -> None:
    out = cli("--help").stdout
    for command in ("doctor", "sandbox", "run", "plan", "dedupe"):
        assert command in out
    sandbox_help = cli("sandbox", "--help").stdout
    assert (
        "test_sandbox" in sandbox_help
        and "demo@example.com" in sandbox_help
        and "demo-password" in sandbox_help
    )


def test_doctor_masks_secrets_and_reports_each_problem(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LEAD_ASSETS_STATE_DIR": str(tmp_path),
        "GENERECT_API_KEY": "sk_live_TOPSECRET",
        "LEEDRUSH_PASSWORD": "hunter2-very-secret",
    }
    env.pop("DAGSTER_HOME", None)
    env.pop("LEAD_ASSETS_DATABASE_URL", None)
    ok = cli("doctor", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "TOPSECRET" not in ok.stdout and "hunter2" not in ok.stdout
    assert (
        "[ok] warehouse reachable" in ok.stdout and "[ok] Dagster instance reachable" in ok.stdout
    )
    bad = cli(
        "doctor",
        env={
            **env,
            "LEAD_ASSETS_DATABASE_URL": "postgresql://u:pw-SECRET@127.0.0.1:1/x",
            "DAGSTER_HOME": str(tmp_path / "missing"),
        },
    )
    assert bad.returncode == 1
    assert "[FAIL] cannot reach the warehouse" in bad.stdout and "pw-SECRET" not in bad.stdout
    assert "[FAIL] cannot open the Dagster instance" in bad.stdout


def test_run_json_accounts_for_every_row(tmp_path: Path) -> None:
    from lead_assets.sandbox.server import running_sandbox

    with running_sandbox() as sandbox:
        env = {**os.environ, **sandbox.environment(), "LEAD_ASSETS_STATE_DIR": str(tmp_path)}
        for var in (
            "DAGSTER_HOME",
            "LEAD_ASSETS_DATABASE_URL",
            "LEAD_ASSETS_LANDING_DIR",
            "LEAD_ASSETS_OUTBOX_DIR",
        ):
            env.pop(var, None)
        result = cli(
            "run",
            str(SAMPLES / "salesforce_report_cp1252.csv"),
            str(SAMPLES / "inventory_not_leads.csv"),
            "--json",
            "--progress",
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    # The bar (stderr) counts the batch's three runs; stdout is nothing but the JSON lines.
    assert "1 batch(es)" in result.stderr and "3/3" in result.stderr
    assert all(line.startswith("{") for line in result.stdout.splitlines())
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_status = {r["status"]: r for r in rows}
    quarantined = by_status["quarantined"]
    assert quarantined["file"].endswith("inventory_not_leads.csv") and quarantined["reasons"] == {
        "no_usable_columns": 1
    }
    done = by_status["done"]
    for field in (
        "file",
        "batch",
        "rows_in",
        "ok",
        "rejected",
        "reasons",
        "spend_usd",
        "spend_credits",
        "cache_hits",
        "qualified",
        "review",
        "disqualified",
        "exports",
    ):
        assert field in done
    assert done["rows_in"] == done["ok"] + done["rejected"]
    assert done["ok"] == done["qualified"] + done["review"] + done["disqualified"] + done["failed"]
    assert sum(done["reasons"].values()) == done["rejected"]
    assert done["spend_usd"] > 0 and done["spend_credits"] > 0
    assert any(p.endswith(".csv") for p in done["exports"]) and any(
        p.endswith(".parquet") for p in done["exports"]
    )


def test_dedupe_keeps_every_row_and_adds_ids(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "first_name,last_name,email,phone,title,company_name,company_domain,location,notes\n"
        'Robert,Ray,bob.ray+x@x.io,,CEO,X Inc,x.io,"Austin, TX",first\n'
        "Bob,Ray,BOB.RAY@X.IO,,CEO,X,x.io,,second\n"
        "Ann,Lee,,,CTO,Y GmbH,y.de,Berlin,third\n"
        ",,,,,,,,empty\n"
    )
    out = tmp_path / "out.csv"
    result = cli("dedupe", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    import pandas as pd

    frame = pd.read_csv(out)
    assert frame["notes"].tolist() == ["first", "second", "third", "empty"]  # every row and column
    assert (
        frame.loc[0, "lead_cluster_id"]
        == frame.loc[1, "lead_cluster_id"]
        != frame.loc[2, "lead_cluster_id"]
    )
    assert frame.loc[0, "account_id"] == frame.loc[1, "account_id"]
    assert pd.isna(frame.loc[3, "lead_cluster_id"])  # an unidentifiable row is kept, not clustered
    # Piped, the stages are plain lines; --progress draws the bar (stdout unchanged either way).
    assert "  resolved (" in result.stderr
    barred = cli("dedupe", str(source), "-o", str(out), "--progress")
    assert barred.returncode == 0 and barred.stdout == result.stdout
    assert "4/4" in barred.stderr and "written" in barred.stderr


def test_dedupe_reads_nested_records_wherever_they_start(tmp_path: Path) -> None:
    # JSON Lines whose first 1,500 records are flat and whose last two nest the organization:
    # the nested ones are read by their dotted fields (organization.name), not dropped.
    lines = [
        json.dumps({"first_name": f"P{i}", "last_name": f"Q{i}", "email": f"p{i}@f{i}.io"})
        for i in range(1500)
    ]
    for _ in range(2):
        lines.append(
            json.dumps(
                {
                    "first_name": "Zed",
                    "last_name": "Quill",
                    "organization": {"name": "Nested Corp", "website_url": "nested.io"},
                }
            )
        )
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    result = cli("dedupe", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 1502
    nested = frame.iloc[-2:]
    # Identified by name + organization (no email): only possible if the nested fields were read.
    assert nested["lead_cluster_id"].notna().all() and nested["account_id"].notna().all()
    assert nested["lead_cluster_id"].nunique() == 1


def test_dedupe_writes_text_numbers_and_flags_as_the_file_had_them(tmp_path: Path) -> None:
    # Text columns are held compactly until written; numbers, flags and missing values of a JSON
    # export must come out as they were, and a formula cell neutralized either way.
    records = [
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@y.de", "score": 42, "vip": True},
        {"first_name": "Bo", "last_name": "Ray", "email": "bo@x.io", "score": 3.5, "vip": None},
        {"first_name": "=CMD()", "last_name": "Zed", "email": None, "score": None, "vip": False},
    ]
    source = tmp_path / "in.json"
    source.write_text(json.dumps(records))
    out = tmp_path / "out.csv"
    result = cli("dedupe", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "first_name,last_name,email,score,vip,lead_cluster_id,account_id"
    assert lines[1].startswith("Ann,Lee,ann@y.de,42,True,lc_")
    assert lines[2].startswith("Bo,Ray,bo@x.io,3.5,,lc_")
    assert lines[3] == "'=CMD(),Zed,,,False,,"  # unidentifiable (no email, no company): no ids


def without_server_extra(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where the server extra's packages cannot be imported."""
    blocked = ["starlette", "uvicorn", "multipart", "python_multipart", "jwt"]
    prelude = f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120
    )


def test_server_commands_without_the_server_extra_say_how_to_install_it() -> None:
    for command in ("webhooks", "sandbox"):
        done = without_server_extra(
            f"from lead_assets.cli import main; sys.exit(main([{command!r}]))"
        )
        assert done.returncode == 2, done.stderr[-2000:]
        assert "needs the server extra" in done.stderr and "lead-assets[server]" in done.stderr
        assert "Traceback" not in done.stderr


def test_the_code_location_loads_without_the_server_extra() -> None:
    # The pipeline needs no HTTP server: definitions load with the server packages blocked.
    done = without_server_extra(
        "from lead_assets.definitions import defs\n"
        "assert defs.resolve_job_def('ingest_job')\n"
        "print('loaded')\n"
    )
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr[-2000:]
