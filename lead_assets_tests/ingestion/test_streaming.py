"""Large files without large memory: one streamed pass counts a file, one streamed parse stages
it in row groups, and every batch reads only its slice (issue 9)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lead_assets.core import parsing
from lead_assets.pipeline import reading

HEADER = "email,first_name,last_name,company\n"


def csv_rows(n: int) -> str:
    return "".join(f"p{i}@acme.com,Pat{i},Lee{i},Acme\n" for i in range(n))


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "jsonl"])
def test_count_and_stage_agree_and_slices_cover_every_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(reading, "CHUNK_ROWS", 7)  # several row groups from a small file
    if kind == "jsonl":
        data = "".join(json.dumps({"email": f"p{i}@acme.com", "n": i}) + "\n" for i in range(50))
        body = data.encode()
    else:
        body = (HEADER + csv_rows(50)).encode()
    path = tmp_path / f"leads.{kind}"
    path.write_bytes(gzip.compress(body) if kind.endswith(".gz") else body)
    assert reading.count_rows(path) == 50
    staged = tmp_path / "staged.parquet"
    assert reading.stage_file(path, staged) == 50
    import pyarrow.parquet as pq

    assert pq.ParquetFile(staged).metadata.num_row_groups == 8  # 7 * 7 + 1
    seen: list[int] = []
    for start in range(1, 51, 10):  # batches of ten cut across row groups
        part = reading.read_staged(staged, start, start + 9)
        assert len(part) == 10
        seen += part["line_no"].tolist()
    first_line = 1 if kind == "jsonl" else 2
    assert seen == list(range(first_line, first_line + 50))
    assert len(reading.read_staged(staged, 45, 60)) == 6  # a last batch past the end is short


def test_an_unclosed_quote_in_a_long_file_is_cut_after_max_record_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the broken line is lost, and the reader never holds more than a bounded record."""
    monkeypatch.setattr(parsing, "MAX_RECORD_LINES", 5)
    path = tmp_path / "broken.csv"
    # A quote opened in the last column, then lines with no delimiter: they look like a note,
    # so only the cap tells the reader the record is not one.
    path.write_text(
        HEADER
        + 'ann@acme.com,Ann,Lee,"Acme\n'
        + "".join(f"x{i}\n" for i in range(3))
        + csv_rows(20)
    )
    rows = parsing.parse_file(path).rows
    broken = [r for r in rows if r.parse_error and "never closed" in r.parse_error]
    good = [r for r in rows if r.parse_error is None]
    assert [r.line_no for r in broken] == [2]
    assert [r.values["email"] for r in good][-20:] == [f"p{i}@acme.com" for i in range(20)]


def test_a_legitimate_note_shorter_than_the_cap_stays_one_field(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    note = "\n".join(f"line {i}" for i in range(50))
    path.write_text('email,notes\nann@acme.com,"' + note + '"\nbob@beta.io,plain\n')
    rows = parsing.parse_file(path).rows
    assert [r.parse_error for r in rows] == [None, None]
    assert rows[0].values["notes"] == note and rows[1].line_no == 52


def test_the_file_drop_tick_counts_but_does_not_stage_and_the_run_stages_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str
) -> None:
    from datetime import UTC, datetime

    from lead_assets.pipeline.ingest import load_raw_uploads
    from lead_assets.pipeline.landing import scan_landing
    from lead_assets.warehouse import apply_migrations, make_engine

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "drop.csv").write_text(HEADER + csv_rows(5))
    engine = make_engine(warehouse_url)
    apply_migrations(engine)
    scan = scan_landing(landing, engine, now=datetime.now(UTC), max_batch_rows=2, all_complete=True)
    (registered,) = scan.registered
    assert [(b.row_start, b.row_end) for b in registered.batches] == [(1, 2), (3, 4), (5, 5)]
    assert not list((landing / "archive").glob("*.parquet"))  # the tick kept nothing
    lines = []
    for batch in registered.batches:
        assert load_raw_uploads(engine, batch.batch_key).rows == batch.rows_expected
        with engine.connect() as conn:
            from sqlalchemy import text

            lines += [
                r[0]
                for r in conn.execute(
                    text("SELECT line_no FROM raw_uploads WHERE batch_key = :k ORDER BY line_no"),
                    {"k": batch.batch_key},
                )
            ]
    assert lines == [2, 3, 4, 5, 6]
    assert len(list((landing / "archive").glob("*.rows.parquet"))) == 1
    engine.dispose()
