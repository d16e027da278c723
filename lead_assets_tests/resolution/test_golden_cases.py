"""Golden cases for matching and survivorship."""

from __future__ import annotations

import pandas as pd
import pytest

from lead_assets.core.matching.resolve import resolve


def leads(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["key"] = [f"b|{i}" for i in range(len(frame))]
    return frame


def same_cluster(result, a: int, b: int) -> bool:  # type: ignore[no-untyped-def]
    ids = result.clusters["lead_cluster_id"].tolist()
    return ids[a] == ids[b]


def test_nickname_typo_and_alias_match_at_one_company() -> None:
    r = resolve(
        leads(
            {
                "first_name": "Robert",
                "last_name": "Johnson",
                "domain": "acme.com",
                "email_match_key": "rjohnson@acme.com",
            },
            {"first_name": "Bob", "last_name": "Johnson", "domain": "acme.com"},
            {"first_name": "Robert", "last_name": "Jonhson", "domain": "acme.com"},
            {
                "first_name": "Robert",
                "last_name": "Johnson",
                "domain": "other.io",
                "email_match_key": "rjohnson@acme.com",
            },
        )
    )
    assert same_cluster(r, 0, 1) and same_cluster(r, 0, 2)  # nickname, typo
    assert same_cluster(r, 0, 3)  # same mailbox (aliases fold into one match key upstream)


def test_namesakes_at_other_companies_are_not_merged() -> None:
    r = resolve(
        leads(
            {"first_name": "John", "last_name": "Smith", "domain": "acme.com"},
            {"first_name": "John", "last_name": "Smith", "domain": "globex.com"},
        )
    )
    assert not same_cluster(r, 0, 1)


def test_two_mailboxes_are_two_people_and_chains_are_refused() -> None:
    r = resolve(
        leads(
            {
                "first_name": "Ann",
                "last_name": "Lee",
                "domain": "acme.com",
                "email_match_key": "ann.lee@acme.com",
            },
            {"first_name": "Ann", "last_name": "Lee", "domain": "acme.com"},
            {
                "first_name": "Ann",
                "last_name": "Lee",
                "domain": "acme.com",
                "email_match_key": "ann.lee2@acme.com",
            },
        )
    )
    # The middle record may join one of them, never both: no chain from one mailbox to the other.
    assert not same_cluster(r, 0, 2)


def test_a_shared_role_mailbox_does_not_merge_people() -> None:
    r = resolve(
        leads(
            {
                "first_name": "Ann",
                "last_name": "Lee",
                "domain": "acme.com",
                "email_match_key": "info@acme.com",
                "email_is_role": True,
            },
            {
                "first_name": "Raj",
                "last_name": "Patel",
                "domain": "acme.com",
                "email_match_key": "info@acme.com",
                "email_is_role": True,
            },
        )
    )
    assert not same_cluster(r, 0, 1)
    assert r.clusters["account_id"].nunique() == 1  # but they share an account


@pytest.mark.parametrize("flag", [True, 1, 1.0, "true"])
def test_a_role_mailbox_reads_the_same_from_either_warehouse(flag: object) -> None:
    """PostgreSQL returns a bool, SQLite 1, and a column with a gap 1.0: all mean a role mailbox,
    so two people behind info@ stay apart on both backends (a re-drop found the gap)."""
    rows = [
        {"first_name": n, "last_name": "", "domain": "acme.com", "email_match_key": "info@acme.com"}
        for n in ("Info", "Sales")
    ]
    frame = leads(*rows)
    frame["email_is_role"] = pd.Series([flag, flag], dtype=object)
    assert not same_cluster(resolve(frame), 0, 1)


def test_the_same_role_mailbox_under_the_same_name_is_one_contact() -> None:
    """ "Info" at info@northwind.io dropped twice is one entry, not two people."""
    row = {
        "first_name": "Info",
        "last_name": None,
        "company_name": "Northwind Traders",
        "domain": "northwind.io",
        "email_match_key": "info@northwind.io",
        "email_is_role": True,
    }
    r = resolve(leads(row, dict(row), {**row, "first_name": "Support"}))
    assert same_cluster(r, 0, 1) and not same_cluster(r, 0, 2)


def test_ids_are_stable_and_survivor_is_most_complete() -> None:
    rows = [
        {"first_name": "Ann", "last_name": "Lee", "domain": "acme.com"},
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "domain": "acme.com",
            "email_match_key": "ann@acme.com",
            "title_normalized": "CEO",
            "country": "US",
        },
    ]
    first, second = resolve(leads(*rows)), resolve(leads(*rows))
    assert first.clusters["lead_cluster_id"].tolist() == second.clusters["lead_cluster_id"].tolist()
    assert first.clusters["is_survivor"].tolist() == [False, True]
    assert first.accounts.loc[0, "lead_count"] == 1


def test_incremental_equals_full() -> None:
    old = [
        {"first_name": "Bob", "last_name": "Ray", "domain": "x.io"},
        {"first_name": "Cy", "last_name": "Dee", "domain": "y.io"},
    ]
    new = [{"first_name": "Robert", "last_name": "Ray", "domain": "x.io"}]
    incremental = resolve(leads(*old)).clusters["lead_cluster_id"].tolist()
    full = resolve(leads(*old, *new)).clusters["lead_cluster_id"].tolist()
    assert full[:2] == incremental and full[2] == full[0]  # the new lead joins Bob's cluster


def test_labeled_synthetic_leads_resolve_accurately() -> None:
    from lead_assets.sandbox.synthetic_b2b import generate, pairwise_scores

    frame = generate(5000, seed=11)
    assert frame["entity_id"].nunique() < len(frame)  # there are duplicates to find
    scores = pairwise_scores(resolve(frame).clusters["lead_cluster_id"], frame["entity_id"])
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.98


def test_shared_office_line_does_not_merge_namesakes_but_a_mobile_survives_a_name_change() -> None:
    r = resolve(
        leads(
            {
                "first_name": "John",
                "last_name": "Smith",
                "domain": "acme.com",
                "phone_e164": "+14155550100",
                "phone_type": "fixed_line",
            },
            {
                "first_name": "John",
                "last_name": "Baker",
                "domain": "acme.com",
                "phone_e164": "+14155550100",
                "phone_type": "fixed_line",
            },
            {
                "first_name": "Maria",
                "last_name": "Lopez",
                "domain": "acme.com",
                "phone_e164": "+14155550199",
                "phone_type": "mobile",
            },
            {
                "first_name": "Maria",
                "last_name": "Chen",
                "domain": "acme.com",
                "phone_e164": "+14155550199",
                "phone_type": "mobile",
            },
        )
    )
    assert not same_cluster(r, 0, 1)
    assert same_cluster(r, 2, 3)


def test_survivorship_per_field_keeps_each_fields_source() -> None:
    import json

    from lead_assets.core.matching.resolve import survivors

    frame = leads(
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "domain": "acme.com",
            "email_match_key": "ann@acme.com",
            "source": "file",
            "batch_key": "2026-01-01",
            "title_normalized": "Manager",
            "phone_e164": "+14155552671",
        },
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "domain": "acme.com",
            "email_match_key": "ann@acme.com",
            "source": "file",
            "batch_key": "2026-06-01",
            "title_normalized": "Director",
        },
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "domain": "acme.com",
            "email_match_key": "ann@acme.com",
            "source": "generect",
            "batch_key": "2026-03-01",
            "linkedin_url": "https://www.linkedin.com/in/annlee",
        },
    )
    result = resolve(frame)
    golden = survivors(frame, result.clusters)
    assert len(golden) == 1
    row = golden.iloc[0]
    sources = json.loads(row["field_sources"])
    assert (
        row["linkedin_url"] == "https://www.linkedin.com/in/annlee"
        and sources["linkedin_url"] == "b|2"
    )  # most trusted source
    assert (
        row["title_normalized"] == "Director" and sources["title_normalized"] == "b|1"
    )  # most recent file record
    assert (
        row["phone_e164"] == "+14155552671" and sources["phone_e164"] == "b|0"
    )  # only record that has it


def test_numbered_names_are_different_records() -> None:
    # Letters alike, digits not: test accounts and generated records are numbered people.
    r = resolve(
        leads(
            {"first_name": "Kim7x1234", "last_name": "Ray1234", "domain": "acme.com"},
            {"first_name": "Kim7x1243", "last_name": "Ray1243", "domain": "acme.com"},
            {"first_name": "Test", "last_name": "User 1", "domain": "acme.com"},
            {"first_name": "Test", "last_name": "User 2", "domain": "acme.com"},
            {"first_name": "Kim7x1234", "last_name": "Ray1234", "domain": "acme.com"},
            {"first_name": "Kim", "last_name": "Ray", "domain": "acme.com"},
        )
    )
    assert not same_cluster(r, 0, 1) and not same_cluster(r, 2, 3)
    assert same_cluster(r, 0, 4)  # the same numbered name is still the same record
