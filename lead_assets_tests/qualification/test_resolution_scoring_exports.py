"""Golden cases for matching, survivorship, scoring reasons, do-not-contact and export escaping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lead_assets.core.dnc import apply_dnc, load_dnc
from lead_assets.core.exports import neutralize_csv_cell, write_batch_exports
from lead_assets.core.matching.resolve import resolve
from lead_assets.core.scoring import ScoringConfigError, load_scoring_config, score_leads
from lead_assets.settings import PROJECT_ROOT


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


def test_scoring_reasons_for_every_status() -> None:
    config = load_scoring_config(PROJECT_ROOT / "config" / "scoring.yaml")
    frame = pd.DataFrame(
        [
            {
                "seniority": "vp",
                "job_function": "Sales",
                "headcount_bucket": "51-200",
                "country": "US",
                "email": "a@b.com",
                "email_status": "valid",
                "phone_type": "mobile",
                "phone_e164": "+14155552671",
                "full_name": "A B",
                "title_normalized": "VP Sales",
                "company_name": "B",
                "domain": "b.com",
            },
            {
                "seniority": "manager",
                "email": "c@d.com",
                "email_status": "catch_all",
                "full_name": "C D",
                "company_name": "D",
                "domain": "d.com",
                "country": "US",
                "headcount_bucket": "51-200",
            },
            {"seniority": "intern", "email": "x@y.com", "email_status": "invalid"},
        ]
    )
    out = score_leads(frame, config)
    assert out["status"].tolist() == ["QUALIFIED", "REVIEW", "DISQUALIFIED"]
    assert out["reasons"][0][0].startswith("score") and "seniority vp (+20)" in out["reasons"][0]
    assert out["reasons"][1][0].startswith("score") and "between" in out["reasons"][1][0]
    assert out["reasons"][2][0] == "unreachable: undeliverable email and no phone"
    assert all(len(r) >= 2 for r in out["reasons"])
    assert out["score"].between(0, 100).all()


def test_scoring_config_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("thresholds: {qualified: 40, review: 70}\n")
    with pytest.raises(ScoringConfigError, match="thresholds"):
        load_scoring_config(bad)
    bad.write_text("thresholds: {qualified: 70, review: 40}\nsurprise: 1\n")
    with pytest.raises(ScoringConfigError, match="surprise"):
        load_scoring_config(bad)


def test_do_not_contact_matches_aliases_and_subdomains(tmp_path: Path) -> None:
    path = tmp_path / "dnc.csv"
    path.write_text("value\nJohn.Doe+x@gmail.com\nbanned.example\n")
    dnc = load_dnc(path)
    frame = pd.DataFrame(
        {
            "email_match_key": ["johndoe@gmail.com", "ok@fine.com", None],
            "email_domain": ["gmail.com", "fine.com", None],
            "domain": [None, "fine.com", "eu.banned.example"],
        }
    )
    blocked, reason = apply_dnc(frame, dnc)
    assert blocked.tolist() == [True, False, True]
    assert reason[0].endswith("(email)") and reason[2].endswith("(domain)")


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("x")', "+14155552671", "-2+3", "@SUM(A1)", "\tcmd", "\rx"]
)
def test_dangerous_csv_cells_are_neutralized(value: str) -> None:
    assert neutralize_csv_cell(value) == "'" + value
    assert neutralize_csv_cell("Ann") == "Ann" and neutralize_csv_cell(3) == 3


def test_exports_escape_csv_and_keep_parquet_raw(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "first_name": ["=cmd|' /C calc'!A0", "Ann"],
            "phone_e164": ["+14155552671", None],
            "score": [80.0, 50.0],
        }
    )
    paths = write_batch_exports(frame, tmp_path, "b1")
    text = paths["csv"].read_text()
    assert "'=cmd" in text and "'+14155552671" in text
    assert pq.read_table(paths["parquet"]).to_pandas()["phone_e164"][0] == "+14155552671"


def test_labeled_synthetic_leads_resolve_accurately() -> None:
    from lead_assets.core.matching.synthetic_b2b import generate, pairwise_scores

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
