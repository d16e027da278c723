"""Parser: formats, encodings, compression, malformed rows and unusable files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lead_assets.core.parsing import FileRejected, parse_file

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADER = "First Name,Last Name,E-mail,Company\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = HEADER + "Zoë,Müller,zoe@example.de,Société Générale\n"
    path = write(tmp_path, "x.csv", prefix + text.encode(encoding))
    parsed = parse_file(path)
    assert parsed.rows[0].values["First Name"] == "Zoë"
    assert parsed.rows[0].values["Company"] == "Société Générale"
    assert parsed.headers[0] == "First Name"  # BOM never leaks into the first header


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["email", "first_name", "company"])
        + "\n"
        + delimiter.join(["a@b.com", "Ann", "B, Inc"])
        + "\n"
    )
    if delimiter == ",":
        text = 'email,first_name,company\na@b.com,Ann,"B, Inc"\n'
    parsed = parse_file(write(tmp_path, "x.csv", text.encode()))
    assert parsed.rows[0].values == {"email": "a@b.com", "first_name": "Ann", "company": "B, Inc"}


def test_quoted_newlines_keep_physical_line_numbers(tmp_path: Path) -> None:
    text = 'email,notes\na@b.com,"two\nlines"\nc@d.com,plain\n'
    parsed = parse_file(write(tmp_path, "x.csv", text.encode()))
    assert [r.line_no for r in parsed.rows] == [2, 4]
    assert parsed.rows[0].values["notes"] == "two\nlines"


def test_malformed_rows_are_kept_with_line_numbers(tmp_path: Path) -> None:
    text = "email,first_name,company\na@b.com,Ann,B\nbroken@x.com\nc@d.com,Cy,D,extra\n"
    parsed = parse_file(write(tmp_path, "x.csv", text.encode()))
    assert len(parsed.rows) == 3
    assert parsed.rows[0].parse_error is None
    assert parsed.rows[1].parse_error == "line 3: expected 3 fields, found 1"
    assert parsed.rows[2].parse_error == "line 4: expected 3 fields, found 4"
    assert parsed.rows[2].values["_extra"] == ["extra"]


def test_json_array_jsonl_envelope_and_gzip(tmp_path: Path) -> None:
    records = [{"email": "a@b.com", "name": "Ann Lee"}, {"email": "c@d.com", "name": "Cy Dee"}]
    arr = parse_file(write(tmp_path, "a.json", json.dumps(records).encode()))
    assert arr.format == "json" and [r.line_no for r in arr.rows] == [1, 2]
    lines = parse_file(
        write(
            tmp_path, "a.jsonl", ("\n".join(json.dumps(r) for r in records) + "\n{oops\n").encode()
        )
    )
    assert lines.format == "jsonl" and len(lines.rows) == 3
    assert lines.rows[2].parse_error and lines.rows[2].line_no == 3
    env = parse_file(write(tmp_path, "e.json", json.dumps({"data": {"leads": records}}).encode()))
    assert len(env.rows) == 2
    gz = parse_file(write(tmp_path, "a.csv.gz", gzip.compress(b"email\na@b.com\n")))
    assert gz.compressed and gz.rows[0].values == {"email": "a@b.com"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"PK\x03\x04" + b"\x00" * 100, "binary"),
        (bytes(range(256)) * 4, "binary"),
        (b"sku,colour\nA,red\n", "no_usable_columns"),
        (b"[{oops", "malformed_json"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt_gzip"),
    ],
)
def test_unusable_files_are_rejected_with_reason(tmp_path: Path, data: bytes, code: str) -> None:
    with pytest.raises(FileRejected) as info:
        parse_file(write(tmp_path, "bad.csv", data))
    assert info.value.reason_code == code
    assert info.value.message  # a sentence for the user


def test_oversized_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as info:
        parse_file(write(tmp_path, "big.csv", b"email\n" + b"a@b.com\n" * 100), max_bytes=100)
    assert info.value.reason_code == "file_too_large"


def test_name_plus_company_is_enough(tmp_path: Path) -> None:
    parsed = parse_file(write(tmp_path, "n.csv", b"Full Name,Account Name\nAnn Lee,Acme\n"))
    assert parsed.mapping == {"Full Name": "full_name", "Account Name": "company_name"}


@pytest.mark.parametrize(
    "name",
    [
        "hubspot_contacts.csv",
        "salesforce_report_cp1252.csv",
        "sales_navigator_scrape.jsonl",
        "apollo_people.json.gz",
    ],
)
def test_bundled_samples_parse(name: str) -> None:
    parsed = parse_file(SAMPLES / name)
    assert len(parsed.rows) > 50
    assert "email" in parsed.mapping.values() or "full_name" in parsed.mapping.values()


def test_excel_sep_line_and_trailing_delimiters(tmp_path: Path) -> None:
    text = "sep=;\nemail;first_name;company\na@b.com;Ann;B;\nc@d.com;Cy;D;;\n"
    parsed = parse_file(write(tmp_path, "excel.csv", text.encode("cp1252")))
    assert parsed.delimiter == ";" and [r.parse_error for r in parsed.rows] == [None, None]
    assert [r.line_no for r in parsed.rows] == [3, 4]
    assert parsed.rows[1].values == {"email": "c@d.com", "first_name": "Cy", "company": "D"}


def test_nested_json_exports_are_understood(tmp_path: Path) -> None:
    import json as _json

    import pandas as pd

    from lead_assets.pipeline.ingest import raw_frame_to_canonical

    record = {
        "name": "Ann Lee",
        "organization": {
            "name": "Acme Inc",
            "website_url": "http://acme.io",
            "estimated_num_employees": 120,
        },
    }
    parsed = parse_file(
        write(tmp_path, "apollo.json", _json.dumps([record]).encode())
    )  # no email: name + company suffice
    assert {"organization.name": "company_name"}.items() <= parsed.mapping.items()
    raw = pd.DataFrame(
        {
            "row_id": ["1"],
            "raw_json": [_json.dumps(parsed.rows[0].values)],
            "parse_error": [None],
            "source": ["file"],
        }
    )
    canonical = raw_frame_to_canonical(raw)
    assert (
        canonical.loc[0, "company_name"] == "Acme Inc"
        and canonical.loc[0, "domain"] == "http://acme.io"
    )
    assert canonical.loc[0, "headcount"] == 120


def test_decorated_headers_map_when_nothing_better_exists() -> None:
    from lead_assets.core.headers import map_headers

    mapping = map_headers(
        [
            "Email (Work)",
            "Email (Personal)",
            "Mobile Phone #2",
            "LinkedIn Profile Link",
            "First Name",
            "Company",
        ]
    )
    assert (
        mapping["Email (Work)"] == "email" and "Email (Personal)" not in mapping
    )  # the first one wins
    assert (
        mapping["Mobile Phone #2"] == "phone" and mapping["LinkedIn Profile Link"] == "linkedin_url"
    )
    assert map_headers(["Email", "Email Opt Out"]) == {
        "Email": "email"
    }  # an exact alias is never displaced
