"""Golden cases for each normalizer (the tricky ones real exports contain)."""

from __future__ import annotations

import pytest

from lead_assets.core.normalize.companies import normalize_company
from lead_assets.core.normalize.domains import domain_from_url
from lead_assets.core.normalize.emails import normalize_email
from lead_assets.core.normalize.headcount import headcount_bucket
from lead_assets.core.normalize.locations import country_code, parse_location
from lead_assets.core.normalize.names import split_name
from lead_assets.core.normalize.phones import normalize_phone
from lead_assets.core.normalize.titles import normalize_title


@pytest.mark.parametrize(
    ("raw", "email", "key", "role", "free", "disposable"),
    [
        ("John.Smith@Acme.COM", "john.smith@acme.com", "john.smith@acme.com", False, False, False),
        (
            "j.o.h.n+leads@googlemail.com",
            "j.o.h.n+leads@googlemail.com",
            "john@gmail.com",
            False,
            True,
            False,
        ),
        ("  <Sales@Acme.io> ", "sales@acme.io", "sales@acme.io", True, False, False),
        (
            "mailto:ann+x@corp.example.com",
            "ann+x@corp.example.com",
            "ann@corp.example.com",
            False,
            False,
            False,
        ),
        (
            "burner@mailinator.com",
            "burner@mailinator.com",
            "burner@mailinator.com",
            False,
            False,
            True,
        ),
        ("josé@exämple.com", "josé@exämple.com", "josé@exämple.com", False, False, False),
    ],
)
def test_emails(raw: str, email: str, key: str, role: bool, free: bool, disposable: bool) -> None:
    info = normalize_email(raw)
    assert (info.email, info.match_key, info.is_role, info.is_free, info.is_disposable) == (
        email,
        key,
        role,
        free,
        disposable,
    )


@pytest.mark.parametrize(
    "raw", ["not-an-email", "a@b", "a@@b.com", "a..b@c.com", "@acme.com", "ann@", ""]
)
def test_invalid_emails(raw: str) -> None:
    assert normalize_email(raw).email is None


@pytest.mark.parametrize(
    ("raw", "region", "e164", "kind"),
    [
        ("(415) 555-2671", "US", "+14155552671", "fixed_line_or_mobile"),
        ("+44 20 7946 0958", "US", "+442079460958", "fixed_line"),
        ("020 7946 0958", "GB", "+442079460958", "fixed_line"),
        ("0044 7911 123456", "US", "+447911123456", "mobile"),
        ("030 1234567", "DE", "+49301234567", "fixed_line"),
        ("12", "US", None, None),
    ],
)
def test_phones(raw: str, region: str, e164: str | None, kind: str | None) -> None:
    got, got_kind, _ = normalize_phone(raw, region)
    assert (got, got_kind) == (e164, kind)


@pytest.mark.parametrize(
    ("first", "last", "full", "expected"),
    [
        ("JOHN", "SMITH", "", ("John", "", "Smith", "John Smith")),
        ("", "", "Smith, John", ("John", "", "Smith", "John Smith")),
        (
            "",
            "",
            "Dr. Juan Q. Xavier de la Vega III",
            ("Juan", "Q. Xavier", "de la Vega", "Juan Q. Xavier de la Vega"),
        ),
        ("mary-jane", "o'brien", "", ("Mary-Jane", "", "O'Brien", "Mary-Jane O'Brien")),
        ("DeShawn", "McDonald", "", ("DeShawn", "", "McDonald", "DeShawn McDonald")),
        ("", "", "", ("", "", "", "")),
    ],
)
def test_names(first: str, last: str, full: str, expected: tuple[str, str, str, str]) -> None:
    assert split_name(first, last, full) == expected


@pytest.mark.parametrize(
    ("raw", "normalized", "seniority", "function"),
    [
        ("Sr. VP of sales", "Senior Vice President of Sales", "vp", "Sales"),
        ("CEO & Co-Founder", "CEO & Co-Founder", "founder", "Entrepreneurship"),
        ("marketing mgr", "Marketing Manager", "manager", "Marketing"),
        ("Head of Growth", "Head of Growth", "head", "Marketing"),
        ("Chief Revenue Officer", "Chief Revenue Officer", "c_suite", "Sales"),
        ("Director of Engineering", "Director of Engineering", "director", "Engineering"),
        ("Summer Intern", "Summer Intern", "intern", None),
        ("Managing Partner", "Managing Partner", "partner", None),
        ("Owner", "Owner", "owner", "Entrepreneurship"),
        ("HR Business Partner", "HR Business Partner", None, "Human Resources"),
    ],
)
def test_titles(raw: str, normalized: str, seniority: str | None, function: str | None) -> None:
    assert normalize_title(raw) == (normalized, seniority, function)


@pytest.mark.parametrize(
    ("raw", "display", "key"),
    [
        ("Acme Holdings, Inc.", "Acme Holdings", "acmeholdings"),
        ("Siemens AG", "Siemens", "siemens"),
        ("The Widget Company LLC", "The Widget Company", "widgetcompany"),
        ("Société Générale S.A.", "Société Générale", "societegenerale"),
        ("Johnson & Johnson", "Johnson & Johnson", "johnsonandjohnson"),
    ],
)
def test_companies(raw: str, display: str, key: str) -> None:
    assert normalize_company(raw) == (display, key)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.Acme.co.uk/about?x=1", "acme.co.uk"),
        ("acme.com", "acme.com"),
        ("http://shop.example.com.au", "example.com.au"),
        ("ann@mail.acme.io", "acme.io"),
        ("not a website", None),
        ("localhost", None),
    ],
)
def test_domains(raw: str, domain: str | None) -> None:
    assert domain_from_url(raw) == domain


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("", "", "", "San Francisco, CA"), ("San Francisco", "California", "US")),
        (("", "", "", "Toronto, Ontario, Canada"), ("Toronto", "Ontario", "CA")),
        (("", "", "", "London, United Kingdom"), ("London", None, "GB")),
        (("Austin", "TX", "", ""), ("Austin", "Texas", "US")),
        (("", "", "Deutschland", ""), (None, None, "DE")),
        (("", "", "", "Paris"), ("Paris", None, None)),
    ],
)
def test_locations(args: tuple[str, str, str, str], expected: tuple) -> None:
    assert parse_location(*args) == expected


def test_country_codes() -> None:
    assert [country_code(x) for x in ("USA", "uk", "DEU", "France", "Narnia")] == [
        "US",
        "GB",
        "DE",
        "FR",
        None,
    ]


@pytest.mark.parametrize(
    ("raw", "bucket"),
    [
        ("51-200", "51-200"),
        ("10,001+", "10 000+"),
        ("10001+", "10 000+"),
        ("10 000+", "10 000+"),
        ("250", "201-500"),
        ("1k-5k", "1001-5000"),
        ("7", "1-10"),
        ("many", None),
    ],
)
def test_headcount(raw: str, bucket: str | None) -> None:
    assert headcount_bucket(raw) == bucket
