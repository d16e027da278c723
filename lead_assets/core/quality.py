"""Data-quality verdicts on one lead batch: pure functions from counts to pass/fail with a sentence.

The Dagster asset checks (``lead_assets/checks.py``) read the figures from the warehouse and call
these; keeping the rules here makes them unit-testable and lets the thresholds live in one object
that is printed in the UI next to every verdict. Each verdict says *why* in a sentence an ops
person can act on, never with a bare boolean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from statistics import fmean

# Email statuses (the internal enum of enriched_leads) that will bounce or must not be mailed.
UNDELIVERABLE = frozenset({"invalid", "disposable", "do_not_mail"})


@dataclass(frozen=True)
class Thresholds:
    """Limits of every check. Defaults are chosen so the sandbox's realistic data passes with a
    wide margin (about 12 % invalid emails, 5-20 % rejected rows) while a broken batch fails;
    each can be overridden by ``LEAD_ASSETS_CHECK_<NAME>`` (upper case; read in ``settings``)."""

    max_rejected_share: float = 0.5
    max_undeliverable_share: float = 0.35
    max_vendor_failure_share: float = 0.25
    spend_tolerance_pct: float = 50.0
    spend_tolerance_usd: float = 0.25
    max_duplicate_rate: float = 0.5
    max_cluster_size: int = 25
    max_mixed_org_clusters: int = 0
    max_score_drift: float = 20.0
    drift_min_history: int = 3

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, float]) -> Thresholds:
        """The defaults with some limits replaced (``settings.check_thresholds`` reads them from
        ``LEAD_ASSETS_CHECK_*``); an unknown name is an error, not silently ignored."""
        unknown = set(overrides) - set(asdict(cls()))
        if unknown:
            raise ValueError(f"unknown check limits: {', '.join(sorted(unknown))}")
        # The whole-number limits get ints (settings._int_env); the others floats.
        return cls(**overrides)  # type: ignore[arg-type]

    @classmethod
    def defaults(cls) -> dict[str, float]:
        """Every limit's name and default value."""
        return asdict(cls())


@dataclass(frozen=True)
class Verdict:
    """One check's outcome: passed or not, the sentence saying why, and the numeric figures."""

    passed: bool
    sentence: str
    figures: Mapping[str, float] = field(default_factory=dict)


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def rejected_share(rows_in: int, rejected: int, t: Thresholds) -> Verdict:
    """Too many rejected rows usually means a mis-mapped file, not bad leads: stop and look."""
    share = rejected / rows_in if rows_in else 0.0
    figures = {"rows_in": rows_in, "rejected": rejected, "rejected_share": round(share, 4)}
    if share > t.max_rejected_share:
        return Verdict(
            False,
            f"{rejected} of {rows_in} rows ({_pct(share)}) were rejected at standardization, "
            f"above the limit of {_pct(t.max_rejected_share)}: check the file's columns.",
            figures,
        )
    return Verdict(
        True, f"{_pct(share)} of rows rejected (limit {_pct(t.max_rejected_share)}).", figures
    )


def required_columns(
    missing_columns: list[str], ok_rows: int, unidentified_ok_rows: int
) -> Verdict:
    """Every ``ok`` lead must be identifiable (an email, or a name and a company or domain) and the table
    must carry the columns downstream steps read."""
    figures = {
        "ok_rows": ok_rows,
        "unidentified_ok_rows": unidentified_ok_rows,
        "missing_columns": len(missing_columns),
    }
    if missing_columns:
        return Verdict(
            False,
            f"standardized_leads lacks the column(s) {', '.join(missing_columns)} that enrichment reads.",
            figures,
        )
    if unidentified_ok_rows:
        return Verdict(
            False,
            f"{unidentified_ok_rows} row(s) marked ok have neither an email nor a name with a company or domain.",
            figures,
        )
    return Verdict(True, f"all {ok_rows} ok rows have an email or a name and a company.", figures)


def no_row_lost(raw_ids: set[str], standardized_ids: set[str]) -> Verdict:
    """Each raw row appears exactly once in standardized_leads (ok or rejected), and no row
    appears that the raw table does not have: computed from row ids, not from a counter."""
    lost = raw_ids - standardized_ids
    extra = standardized_ids - raw_ids
    figures = {
        "raw_rows": len(raw_ids),
        "standardized_rows": len(standardized_ids),
        "lost": len(lost),
        "unexpected": len(extra),
    }
    if lost or extra:
        parts = []
        if lost:
            parts.append(f"{len(lost)} raw row(s) missing from standardized_leads")
        if extra:
            parts.append(f"{len(extra)} standardized row(s) with no raw row")
        return Verdict(False, "; ".join(parts) + ".", figures)
    return Verdict(True, f"all {len(raw_ids)} raw rows are accounted for.", figures)


def deliverable_rate(statuses: dict[str, int], t: Thresholds) -> Verdict:
    """Exporting a list where a large share bounces burns the sender's domain: block it."""
    with_email = sum(n for s, n in statuses.items() if s not in ("none", None, ""))
    bad = sum(n for s, n in statuses.items() if s in UNDELIVERABLE)
    share = bad / with_email if with_email else 0.0
    figures = {
        "with_email": with_email,
        "undeliverable": bad,
        "undeliverable_share": round(share, 4),
        "deliverable_rate": round(1 - share, 4) if with_email else 0.0,
    }
    if share > t.max_undeliverable_share:
        return Verdict(
            False,
            f"{bad} of {with_email} emails ({_pct(share)}) are undeliverable (invalid, disposable "
            f"or do-not-mail), above the limit of {_pct(t.max_undeliverable_share)}: the batch is "
            "not exported.",
            figures,
        )
    return Verdict(
        True,
        f"{_pct(share)} of emails undeliverable (limit {_pct(t.max_undeliverable_share)}).",
        figures,
    )


def vendor_failure_share(rows: int, failed: int, t: Thresholds) -> Verdict:
    """A vendor outage shows as many leads without an answer; say so before users see gaps."""
    share = failed / rows if rows else 0.0
    figures = {"rows": rows, "vendor_failed": failed, "vendor_failure_share": round(share, 4)}
    if share > t.max_vendor_failure_share:
        return Verdict(
            False,
            f"{failed} of {rows} leads ({_pct(share)}) got no answer from a vendor (failed or "
            f"timed out), above {_pct(t.max_vendor_failure_share)}.",
            figures,
        )
    return Verdict(True, f"{_pct(share)} of leads had a vendor failure.", figures)


def spend_vs_estimate(spend_usd: float, estimate_usd: float | None, t: Thresholds) -> Verdict:
    """The plan's estimate is what the credits sensor launched on; a large miss means the
    estimator (or the vendor's prices) changed and budgets are no longer trustworthy."""
    figures: dict[str, float | int] = {"spend_usd": round(spend_usd, 4)}
    if estimate_usd is None:
        return Verdict(True, "no estimate recorded for this batch (launched by hand).", figures)
    figures["estimate_usd"] = round(estimate_usd, 4)
    diff = spend_usd - estimate_usd
    figures["difference_usd"] = round(diff, 4)
    limit = max(t.spend_tolerance_usd, abs(estimate_usd) * t.spend_tolerance_pct / 100)
    if abs(diff) > limit:
        return Verdict(
            False,
            f"spent ${spend_usd:.4f} against an estimate of ${estimate_usd:.4f}: off by "
            f"${abs(diff):.4f}, more than the ${limit:.4f} tolerance.",
            figures,
        )
    return Verdict(True, f"spent ${spend_usd:.4f}, estimate ${estimate_usd:.4f}.", figures)


def duplicate_rate(rows: int, clusters: int, t: Thresholds) -> Verdict:
    """Share of the batch's leads that fold into another lead's cluster."""
    rate = 1 - clusters / rows if rows else 0.0
    figures = {"rows": rows, "clusters": clusters, "duplicate_rate": round(rate, 4)}
    if rate > t.max_duplicate_rate:
        return Verdict(
            False,
            f"{rows - clusters} of {rows} leads ({_pct(rate)}) merged into other leads, above "
            f"{_pct(t.max_duplicate_rate)}: matching may be over-merging.",
            figures,
        )
    return Verdict(True, f"{_pct(rate)} of leads are duplicates.", figures)


def largest_cluster(size: int, t: Thresholds) -> Verdict:
    """One "person" with dozens of records is a chaining bug, and exporting it would merge
    strangers' data: block."""
    figures = {"largest_cluster": size}
    if size > t.max_cluster_size:
        return Verdict(
            False,
            f"a lead cluster touched by this batch has {size} records, above {t.max_cluster_size}: "
            "unrelated people were probably chained together.",
            figures,
        )
    return Verdict(True, f"largest cluster has {size} record(s).", figures)


def mixed_org_clusters(count: int, t: Thresholds) -> Verdict:
    """A person cluster whose records sit in two accounts (different company and domain)."""
    figures = {"mixed_org_clusters": count}
    if count > t.max_mixed_org_clusters:
        return Verdict(
            False,
            f"{count} lead cluster(s) join records of different organizations (company and domain "
            "both differ).",
            figures,
        )
    return Verdict(True, "no lead cluster mixes organizations.", figures)


def every_row_has_reason(rows: int, without_reason: int) -> Verdict:
    """A status without a reason cannot be explained to sales: block the export."""
    figures = {"rows": rows, "without_reason": without_reason}
    if without_reason:
        return Verdict(
            False,
            f"{without_reason} of {rows} scored lead(s) have no reason for their status.",
            figures,
        )
    return Verdict(True, f"all {rows} scored leads carry their reasons.", figures)


def score_drift(batch_scores: list[float], history_means: list[float], t: Thresholds) -> Verdict:
    """Mean score of this batch against the mean of recent batches' means; a jump means the
    scoring rules, the vendors' answers or the input changed."""
    mean = fmean(batch_scores) if batch_scores else 0.0
    figures: dict[str, float | int] = {
        "mean_score": round(mean, 2),
        "history_batches": len(history_means),
    }
    if len(history_means) < t.drift_min_history or not batch_scores:
        return Verdict(
            True,
            f"not enough history to measure drift ({len(history_means)} earlier batch(es)).",
            figures,
        )
    baseline = fmean(history_means)
    drift = mean - baseline
    figures.update(baseline_mean_score=round(baseline, 2), drift=round(drift, 2))
    if abs(drift) > t.max_score_drift:
        return Verdict(
            False,
            f"mean score {mean:.1f} is {abs(drift):.1f} points {'above' if drift > 0 else 'below'} "
            f"the recent batches' {baseline:.1f} (limit {t.max_score_drift:.0f}).",
            figures,
        )
    return Verdict(True, f"mean score {mean:.1f}, recent batches {baseline:.1f}.", figures)
