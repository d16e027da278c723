"""The whole graph (file drop -> ingest -> enrich on the sandbox -> collect -> exports) on generated
lead files, on SQLite and PostgreSQL.

Property: every run completes, nothing raises out of a sensor, and every input row ends in exactly
one of qualified / review / disqualified / failed / rejected, with a reason (a quarantined file's
rows are rejected with the file's reason).

Files come in every format the parser accepts (CSV with , ; tab |, JSON arrays, JSON Lines, and
gzip of each) with blank, whitespace-only, wrong-type (numbers, booleans, null, nested objects in
JSON), unicode and very long fields, duplicated rows and duplicated columns. Each example drops a
handful of files at once, so one drain of the graph covers several files; the default is bounded
for ``make test`` (``LEAD_ASSETS_PROPERTY_EXAMPLES`` raises it, e.g. to 50).
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import os
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

#: Six examples per backend (18-30 generated files) in ``make test``, reproducible; setting
#: ``LEAD_ASSETS_PROPERTY_EXAMPLES`` explores with fresh random examples.
EXPLORE = "LEAD_ASSETS_PROPERTY_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("LEAD_ASSETS_PROPERTY_EXAMPLES") or 6)
#: ALREADY_DELIVERED: the same person in an earlier file of the example (generated rows repeat
#: across files) is reported as delivered there, which accounts for the row as well.
OUTCOMES = {"QUALIFIED", "REVIEW", "DISQUALIFIED", "FAILED", "ALREADY_DELIVERED"}
HEADERS = ["email", "first_name", "last_name", "company", "website", "phone", "title", "country"]
_counter = itertools.count()

# Cells never hold a line break: a quoted multi-line cell is tested on its own (test_csv_quotes);
# here it would make "one line = one row" unknowable for the generator.
_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\u2028\u2029")
realistic = st.sampled_from(
    [
        "ann.lee@acme-robotics.com",
        "BOB@GMAIL.COM",
        "not-an-email",
        "Jürgen",
        "O'Brien",
        "李",
        "Acme Robotics Inc.",
        "acme-robotics.com",
        "https://www.initech.com/about",
        "+1 415 555 0101",
        "646.647.9157",
        "VP Sales",
        "Chief Revenue Officer",
        "USA",
        "Deutschland",
        '=HYPERLINK("x")',
        "🙂",
        "\u202eevil",
    ]
)
text_cell = st.one_of(
    st.just(""),
    st.sampled_from([" ", "   ", "\t"]),
    st.text(_chars, max_size=30),
    realistic,
    st.integers(min_value=1_000, max_value=10_000).map(lambda n: "x" * n),  # very long
)
json_cell = st.one_of(
    text_cell,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.fixed_dictionaries({"name": realistic}),
)


@dataclass
class LeadFile:
    """A generated file: its name, its bytes, and how many data rows it holds."""

    name: str
    data: bytes
    rows: int


@st.composite
def lead_files(draw: st.DrawFn) -> LeadFile:
    fmt = draw(st.sampled_from(["csv", "csv;", "tsv", "csv|", "json", "jsonl"]))
    columns = draw(st.lists(st.sampled_from(HEADERS), min_size=2, max_size=8))
    # Most files can identify a lead; some cannot and are quarantined as a whole.
    if draw(st.booleans()) or "email" not in columns:
        columns = [*columns, draw(st.sampled_from(["email", "Email Address", "E-mail"]))]
    if draw(st.booleans()):
        columns.append(columns[0])  # a duplicated column
    tag = f"t{next(_counter)}x{os.getpid()}"
    cell = json_cell if fmt.startswith("json") else text_cell
    rows = draw(
        st.lists(
            st.lists(cell, min_size=len(columns), max_size=len(columns)), min_size=1, max_size=8
        )
    )
    if draw(st.booleans()):
        rows = rows + rows[:2]  # duplicated rows
    compressed = draw(st.booleans())
    # A column that makes every file's bytes unique (two examples may draw the same rows).
    columns = [*columns, "import_tag"]
    rows = [[*r, tag] for r in rows]
    if fmt.startswith("json"):
        records = [
            "{"
            + ", ".join(
                f"{json.dumps(k)}: {json.dumps(v)}" for k, v in zip(columns, r, strict=True)
            )
            + "}"
            for r in rows
        ]
        body = ("[" + ",\n".join(records) + "]") if fmt == "json" else "\n".join(records) + "\n"
        ext = ".json" if fmt == "json" else ".jsonl"
    else:
        delimiter = {"csv": ",", "csv;": ";", "tsv": "\t", "csv|": "|"}[fmt]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([[str(v) for v in r] for r in rows])
        body = buffer.getvalue()
        ext = ".tsv" if fmt == "tsv" else ".csv"
    data = body.encode("utf-8")
    name = f"gen_{tag}{ext}"
    if compressed:
        data, name = gzip.compress(data), name + ".gz"
    return LeadFile(name, data, len(rows))


def _account_for(p, lead_file: LeadFile) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Check one file's rows end in exactly one outcome each; return (how it ended, rows)."""
    path = str(p.landing / lead_file.name)
    with p.engine.connect() as conn:
        state, reason, batch_keys = conn.execute(
            text("SELECT state, reason, batch_keys FROM seen_files WHERE path = :p"), {"p": path}
        ).one()
        if state == "quarantined":
            assert reason and ":" in reason  # every row rejected with the file's reason
            return "quarantined", lead_file.rows
        assert state == "registered"
        total = 0
        for key in json.loads(batch_keys):
            raw = {
                r[0]
                for r in conn.execute(
                    text("SELECT row_id FROM raw_uploads WHERE batch_key = :k"), {"k": key}
                )
            }
            std = conn.execute(
                text("SELECT row_id, status, reasons FROM standardized_leads WHERE batch_key = :k"),
                {"k": key},
            ).all()
            scored = {
                r[0]: (r[1], r[2])
                for r in conn.execute(
                    text(
                        "SELECT row_id, status, reasons FROM qualified_leads WHERE batch_key = :k"
                    ),
                    {"k": key},
                )
            }
            assert {r[0] for r in std} == raw and len(std) == len(raw)
            for row_id, status, reasons in std:
                if status == "rejected":
                    assert reasons, row_id  # rejected, with a reason
                    assert row_id not in scored
                else:
                    assert status == "ok"
                    outcome, why = scored[row_id]  # scored exactly once (primary key)
                    assert outcome in OUTCOMES and json.loads(why), row_id
            assert set(scored) <= raw
            exports = conn.execute(
                text("SELECT COUNT(*) FROM batch_exports WHERE batch_key = :k"), {"k": key}
            ).scalar_one()
            assert exports >= 2  # CSV and Parquet written: the graph ran to the end
            total += len(raw)
    assert total == lead_file.rows, (lead_file.name, total, lead_file.rows)
    return "registered", total


QUALITY_GATES_OPEN = {
    "MAX_REJECTED_SHARE": "1",
    "MAX_UNDELIVERABLE_SHARE": "1",
    "MAX_VENDOR_FAILURE_SHARE": "1",
    "MAX_DUPLICATE_RATE": "1",
    "MAX_CLUSTER_SIZE": "1000000",
    "MAX_MIXED_ORG_CLUSTERS": "1000000",
}


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not EXPLORE,  # the bounded default is reproducible; a long run explores
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(files=st.lists(lead_files(), min_size=3, max_size=5))
def test_every_generated_row_ends_in_exactly_one_outcome(
    pipeline_factory, tmp_path_factory, monkeypatch, files
) -> None:  # type: ignore[no-untyped-def]
    # The property is about the pipeline never losing a row or raising on what users send, not
    # about the quality gates: generated junk would (rightly) trip the blocking checks, which
    # lead_assets_tests/operations tests on their own. Open the gates here.
    for limit, wide in QUALITY_GATES_OPEN.items():
        monkeypatch.setenv(f"LEAD_ASSETS_CHECK_{limit}", wide)
    p = _pipeline(pipeline_factory)
    folder = tmp_path_factory.mktemp("generated")
    for lead_file in files:
        (folder / lead_file.name).write_bytes(lead_file.data)
        p.drop(folder / lead_file.name)
    from lead_assets.inprocess_daemon import drain

    outcome = drain(
        p.defs,
        p.instance,
        ["file_drop_sensor", "credits_sensor", "leedrush_status_sensor"],
        poll_seconds=0.2,
        timeout_seconds=300,
    )
    assert outcome.failures == []  # no sensor tick raised
    assert all(ok for _, _, ok in outcome.runs), outcome.runs
    ended = [_account_for(p, f) for f in files]
    assert sum(n for _, n in ended) == sum(f.rows for f in files)


_PIPELINES: dict[int, object] = {}


def _pipeline(factory):  # type: ignore[no-untyped-def]
    # One sandbox + instance + warehouse per test (backend), reused by its examples. (Not
    # ``setdefault(key, factory())``: that builds a new pipeline per example, whose environment
    # then points every example after the first at an empty landing folder.)
    if id(factory) not in _PIPELINES:
        _PIPELINES[id(factory)] = factory()
    return _PIPELINES[id(factory)]


def test_a_batch_without_one_ok_lead_resolves_to_nothing(warehouse) -> None:  # type: ignore[no-untyped-def]
    # Found by the property above: every row rejected -> empty clusters with float columns,
    # which pandas refused to join on the text key (deduplicated_accounts failed).
    from lead_assets.pipeline.incremental_resolution import resolve_batch

    stats = resolve_batch(warehouse, "2026-12-01T0000Z-all_rejected-000000-0001")
    assert (stats.batch_leads, stats.batch_duplicates) == (0, 0)
