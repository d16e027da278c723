"""Golden cases for scoring reasons, do-not-contact and export escaping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from lead_assets.core.dnc import apply_dnc, load_dnc
from lead_assets.core.exports import neutralize_csv_cell, write_batch_exports
from lead_assets.core.scoring import ScoringConfigError, load_scoring_config, score_leads
from lead_assets.settings import PROJECT_ROOT


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
