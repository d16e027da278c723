"""An unterminated quote loses only its own line: the good rows after it are parsed as leads."""

from __future__ import annotations

from pathlib import Path

from lead_assets.core.parsing import parse_file


def test_unterminated_quote_rejects_only_the_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(
        "email,first_name,last_name,company\n"
        "ann@acme.com,Ann,Lee,Acme\n"
        'bob@beta.io,"Bob,Ray,Beta\n'  # the quote never closes
        "cid@gamma.com,Cid,Moe,Gamma\n"
        'dee@delta.com,Dee,Kay,"Delta, Inc."\n'
        "eve@eps.com,Eve,Fox,Eps\n"
    )
    parsed = parse_file(path)
    good = [r for r in parsed.rows if r.parse_error is None]
    bad = [r for r in parsed.rows if r.parse_error is not None]
    assert [r.values["email"] for r in good] == [
        "ann@acme.com",
        "cid@gamma.com",
        "dee@delta.com",
        "eve@eps.com",
    ]
    assert good[2].values["company"] == "Delta, Inc."
    assert [(r.line_no, "never closed" in r.parse_error) for r in bad] == [(3, True)]
    assert [r.line_no for r in good] == [2, 4, 5, 6]


def test_quote_opened_in_the_last_column_and_two_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "broken2.csv"
    path.write_text(
        "email,first_name,last_name,company\n"
        'ann@acme.com,Ann,Lee,"Acme\n'
        "bob@beta.io,Bob,Ray,Beta\n"
        'cid@gamma.com,"Cid,Moe,Gamma\n'
        "dee@delta.com,Dee,Kay,Delta\n"
    )
    parsed = parse_file(path)
    assert [(r.line_no, r.parse_error is None) for r in parsed.rows] == [
        (2, False),
        (3, True),
        (4, False),
        (5, True),
    ]


def test_legitimate_multiline_fields_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        'email,first_name,last_name,notes\nann@acme.com,Ann,Lee,"line one\nline two"\n'
        "bob@beta.io,Bob,Ray,plain\n"
    )
    parsed = parse_file(path)
    assert [r.parse_error for r in parsed.rows] == [None, None]
    assert parsed.rows[0].values["notes"] == "line one\nline two"
    assert parsed.rows[1].line_no == 4
