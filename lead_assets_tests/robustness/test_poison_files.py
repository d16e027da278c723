"""A poison file quarantines itself with a reason; the tick goes on with the other files."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import text

from lead_assets.resources.warehouse import WarehouseResource
from lead_assets_tests.dagster.test_file_drop_sensor import CSV, tick

LONG_NAME = "q4_leads_" + "x" * 230 + ".csv"


def _drop(landing: Path, name: str, data: bytes) -> Path:
    path = landing / name
    path.write_bytes(data)
    (landing / (name + ".done")).write_text("")
    return path


@pytest.fixture
def wh(warehouse_url: str) -> WarehouseResource:
    return WarehouseResource(database_url=warehouse_url)


def test_five_poison_files_and_one_good_file_in_one_tick(
    sqlite_instance,
    landing: Path,
    wh: WarehouseResource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lead_assets.pipeline import landing as landing_module

    _drop(landing, "a_deep.json", b"[" * 100_000 + b"]" * 100_000)
    _drop(landing, "b_bignum.json", b'[{"email": "ann@acme.com", "n": ' + b"9" * 5000 + b"}]")
    _drop(
        landing,
        "c_hugefield.csv",
        b'email,first_name\nann@acme.com,"' + b"x" * (17 * 1024 * 1024) + b'"\n',
    )
    unreadable = _drop(landing, "d_unreadable.csv", CSV.encode())
    unreadable.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real = landing_module.content_hash

        def denied(path: Path) -> str:
            if path.name == unreadable.name:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real(path)

        monkeypatch.setattr(landing_module, "content_hash", denied)
    _drop(landing, LONG_NAME, CSV.encode())
    _drop(landing, "z_good.csv", CSV.encode())

    result = tick(sqlite_instance, wh, None)

    # The good file, sorted after all five, is registered and its ingestion requested.
    assert [r.partition_key.split("-")[-3] for r in result.run_requests] == ["z_good"]
    assert not (landing / "z_good.csv").exists()
    # The five are in quarantine, each beside its reason.
    quarantine = landing / "quarantine"
    reasons = {
        p.name.removesuffix(".reason.txt"): p.read_text().strip()
        for p in quarantine.glob("*.reason.txt")
    }
    by_prefix = {name[:2]: reason for name, reason in reasons.items()}
    assert by_prefix["a_"].startswith("too_deeply_nested:")
    assert by_prefix["b_"].startswith("malformed_json:") and "digits" in by_prefix["b_"]
    assert by_prefix["c_"].startswith("field_too_large:")
    assert by_prefix["d_"].startswith("unreadable:") and "Permission denied" in by_prefix["d_"]
    assert by_prefix["q4"].startswith("name_too_long:")
    assert len(reasons) == 5
    for name in reasons:
        assert (quarantine / name).exists()
    assert not [p for p in landing.iterdir() if p.is_file()]  # nothing left to fail again
    # And recorded, so the next tick has nothing to redo.
    with wh.engine().connect() as conn:
        states = dict(
            conn.execute(text("SELECT state, COUNT(*) FROM seen_files GROUP BY state")).all()
        )
    assert states == {"quarantined": 5, "registered": 1}
    # Visible where an ops person looks: one landing_files event per file, with its reason.
    outcomes = [
        (e.metadata["outcome"].value, e.metadata.get("reason"))
        for e in result.asset_events
        if e.asset_key == dg.AssetKey("landing_files")
    ]
    assert sorted(o for o, _ in outcomes) == ["quarantined"] * 5 + ["registered"]
    assert all(r is not None and ":" in r.value for o, r in outcomes if o == "quarantined")
    again = tick(sqlite_instance, wh, result.cursor)
    assert isinstance(again, dg.SensorResult)


def test_a_small_gzip_bomb_is_quarantined_as_such(tmp_path: Path) -> None:
    import gzip

    from lead_assets.core.parsing import FileRejected, parse_file

    bomb = tmp_path / "leads.csv.gz"
    bomb.write_bytes(gzip.compress(b"email\n" + b"a" * (64 * 1024 * 1024), compresslevel=9))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(FileRejected) as caught:
        parse_file(bomb)
    assert caught.value.reason_code == "gzip_bomb"
    # A real export, well compressed, still reads.
    good = tmp_path / "ok.csv.gz"
    good.write_bytes(gzip.compress(CSV.encode()))
    assert len(parse_file(good).rows) == 5
