"""Property-based tests: no input crashes the parser or the normalizers, and every row is
accounted for (rows_in = ok + rejected, each row keeps its id)."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead_assets.core.normalize.companies import normalize_company
from lead_assets.core.normalize.domains import domain_from_url
from lead_assets.core.normalize.emails import normalize_email
from lead_assets.core.normalize.headcount import headcount_bucket
from lead_assets.core.normalize.locations import parse_location
from lead_assets.core.normalize.names import split_name
from lead_assets.core.normalize.phones import normalize_phone
from lead_assets.core.normalize.titles import normalize_title
from lead_assets.core.parsing import FileRejected, parse_file
from lead_assets.core.standardize import OUTPUT_COLUMNS, standardize_rows

FIELDS = [
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "title",
    "company_name",
    "domain",
    "city",
    "region",
    "country",
    "location",
    "headcount",
    "industry",
    "linkedin_url",
]
cell = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "a@b.com", "ANN@GMAIL.COM", "+1 415 555 2671", "Acme Inc.", "CEO", "USA", "51-200"]
    ),
)
ANY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ANY
@given(st.text(max_size=60))
def test_normalizers_never_crash(text: str) -> None:
    normalize_email(text)
    normalize_phone(text, "US")
    normalize_title(text)
    normalize_company(text)
    domain_from_url(text)
    headcount_bucket(text)
    split_name(text, text, text)
    parse_location(text, text, text, text)


@ANY
@given(
    st.lists(st.fixed_dictionaries({f: cell for f in FIELDS}), max_size=25),
    st.lists(st.booleans(), max_size=25),
)
def test_every_row_is_accounted_for(rows: list[dict], malformed: list[bool]) -> None:
    frame = pd.DataFrame(rows, columns=FIELDS)
    frame.insert(0, "row_id", [f"r{i}" for i in range(len(frame))])
    frame["parse_error"] = [
        ("bad" if (i < len(malformed) and malformed[i]) else None) for i in range(len(frame))
    ]
    result = standardize_rows(frame)
    out = result.frame
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert list(out["row_id"]) == list(frame["row_id"])  # same rows, same order, none lost
    assert result.stats.rows_in == len(frame) == result.stats.ok + result.stats.rejected
    assert set(out["status"]) <= {"ok", "rejected"}
    rejected = out[out["status"] == "rejected"]
    assert all(
        r.split(";")[0] in ("malformed_row", "no_contact_identity") for r in rejected["reasons"]
    )
    assert sum(result.stats.reasons.values()) == result.stats.rejected


@ANY
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12),
            min_size=1,
            max_size=5,
        ),
        min_size=1,
        max_size=20,
    )
)
def test_csv_parser_keeps_every_record(records: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["email", "first_name", "last_name", "company"])
    for record in records:
        writer.writerow(record)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        parsed = parse_file(path)
    # Blank records (a single empty field) are blank lines, not rows; every other record is a row.
    expected = [r for r in records if any(f.strip() for f in r) or len(r) > 1]
    assert len(parsed.rows) == len(expected)
    for row, record in zip(parsed.rows, expected, strict=True):
        # Empty fields past the header's width (a trailing delimiter) are dropped, not an error.
        trimmed = list(record)
        while len(trimmed) > 4 and not trimmed[-1].strip():
            trimmed.pop()
        if len(trimmed) == 4:
            assert row.parse_error is None
            assert list(row.values.values()) == trimmed
        else:
            assert row.parse_error is not None


@ANY
@given(st.binary(max_size=300))
def test_parser_never_crashes_on_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.bin"
        path.write_bytes(data)
        try:
            parsed = parse_file(path)
        except FileRejected as exc:
            assert exc.reason_code and exc.message
        else:
            assert all(r.line_no >= 1 for r in parsed.rows)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["US", "GB", "DE", "FR", "NL", "CH", "IN", "BR", "AU", "JP"]),
    st.sampled_from(["", "+", "00", "0"]),
    # Few heads, many tails: numbers share shapes, so the cached shortcut is really exercised.
    st.sampled_from(
        ["4155", "2125", "7911", "2079", "3012", "1427", "6123", "9876", "4420", "3361", "5550"]
    ),
    st.text(alphabet="0123456789", min_size=3, max_size=9),
)
def test_phone_shape_shortcut_agrees_with_the_library(
    region: str, prefix: str, head: str, tail: str
) -> None:
    from lead_assets.core.normalize.phones import normalize_phone, parse_with_library, phone_digits

    raw = prefix + head + tail
    e164, kind, _ = normalize_phone(raw, region)
    lib_e164, lib_kind, _ = parse_with_library(phone_digits(raw), region)
    assert (e164, kind) == (lib_e164, lib_kind)
