"""The pure quality rules: each verdict passes or fails at its limit and says why in a sentence."""

from __future__ import annotations

import pytest

from lead_assets.core import quality
from lead_assets.core.quality import Thresholds

T = Thresholds()


def test_deliverable_rate_blocks_a_bouncing_list() -> None:
    bad = quality.deliverable_rate({"valid": 40, "invalid": 50, "disposable": 10, "none": 7}, T)
    assert not bad.passed and bad.figures["with_email"] == 100
    assert bad.sentence.startswith("60 of 100 emails (60.0 %) are undeliverable")
    assert quality.deliverable_rate({"valid": 70, "invalid": 30}, T).passed


def test_no_row_lost_compares_row_ids_not_counters() -> None:
    same_count = quality.no_row_lost({"a", "b", "c"}, {"a", "b", "x"})
    assert not same_count.passed
    assert same_count.sentence == (
        "1 raw row(s) missing from standardized_leads; 1 standardized row(s) with no raw row."
    )
    assert quality.no_row_lost({"a"}, {"a"}).passed


def test_rejected_share_and_required_columns() -> None:
    assert not quality.rejected_share(10, 6, T).passed
    assert quality.rejected_share(10, 5, T).passed
    assert "lacks the column(s) email" in quality.required_columns(["email"], 0, 0).sentence
    assert not quality.required_columns([], 10, 1).passed


def test_spend_vs_estimate_tolerance() -> None:
    assert quality.spend_vs_estimate(1.0, 0.9, T).passed
    off = quality.spend_vs_estimate(3.0, 1.0, T)
    assert not off.passed and "off by $2.0000" in off.sentence
    assert quality.spend_vs_estimate(0.5, None, T).passed  # a run launched by hand


def test_cluster_rules_and_reasons() -> None:
    assert not quality.largest_cluster(26, T).passed and quality.largest_cluster(25, T).passed
    assert not quality.mixed_org_clusters(1, T).passed
    assert not quality.duplicate_rate(10, 4, T).passed
    assert not quality.every_row_has_reason(5, 1).passed


def test_score_drift_needs_history() -> None:
    assert quality.score_drift([90.0] * 5, [40.0, 42.0], T).passed  # too little history
    drifted = quality.score_drift([90.0] * 5, [40.0, 42.0, 41.0], T)
    assert not drifted.passed and "above" in drifted.sentence
    assert quality.score_drift([45.0], [40.0, 42.0, 41.0], T).passed


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lead_assets.settings import SettingError, check_thresholds

    monkeypatch.setenv("LEAD_ASSETS_CHECK_MAX_UNDELIVERABLE_SHARE", "0.1")
    monkeypatch.setenv("LEAD_ASSETS_CHECK_MAX_CLUSTER_SIZE", "40")
    monkeypatch.setenv("LEAD_ASSETS_CHECK_MAX_SCORE_DRIFT", " ")  # blank: the default
    limits = check_thresholds()
    assert (limits.max_undeliverable_share, limits.max_cluster_size) == (0.1, 40)
    assert limits.max_score_drift == Thresholds().max_score_drift
    monkeypatch.setenv("LEAD_ASSETS_CHECK_MAX_CLUSTER_SIZE", "lots")
    with pytest.raises(SettingError, match="LEAD_ASSETS_CHECK_MAX_CLUSTER_SIZE must be a whole"):
        check_thresholds()
    with pytest.raises(ValueError, match="unknown check limits: max_typos"):
        Thresholds.with_overrides({"max_typos": 1})
