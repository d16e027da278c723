"""Scoring leads 0-100 with reasons, from rules in YAML (``config/scoring.yaml``).

Every row gets a status (QUALIFIED, REVIEW, DISQUALIFIED) and the list of reasons that produced
it, including why a qualified row qualified. Vectorized: 100k rows score in well under a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

STATUSES = ("QUALIFIED", "REVIEW", "DISQUALIFIED")
_SECTIONS = {"base", "thresholds", "icp", "quality", "vendor", "disqualify"}


class ScoringConfigError(ValueError):
    """The scoring YAML is wrong; the message names the key."""


@dataclass(frozen=True)
class ScoringConfig:
    """Validated scoring rules."""

    base: float
    qualified: float
    review: float
    icp: dict[str, dict[str, float]]
    quality: dict
    vendor: dict
    disqualify: dict = field(default_factory=dict)


def load_scoring_config(path: str | Path) -> ScoringConfig:
    """Read and validate the YAML; errors name the offending key."""
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ScoringConfigError(
            f"scoring config {path} does not exist (LEAD_ASSETS_SCORING_CONFIG)"
        ) from None
    unknown = set(raw) - _SECTIONS
    if unknown:
        raise ScoringConfigError(
            f"{path}: unknown section(s) {sorted(unknown)}; expected {sorted(_SECTIONS)}"
        )
    thresholds = raw.get("thresholds") or {}
    try:
        qualified, review = float(thresholds["qualified"]), float(thresholds["review"])
    except (KeyError, TypeError, ValueError):
        raise ScoringConfigError(
            f"{path}: thresholds.qualified and thresholds.review must be numbers"
        ) from None
    if not 0 <= review <= qualified <= 100:
        raise ScoringConfigError(
            f"{path}: need 0 <= thresholds.review <= thresholds.qualified <= 100"
        )
    icp = raw.get("icp") or {}
    for name, table in icp.items():
        if not isinstance(table, dict) or not all(
            isinstance(v, int | float) for v in table.values()
        ):
            raise ScoringConfigError(f"{path}: icp.{name} must map values to points")
    return ScoringConfig(
        float(raw.get("base", 0)),
        qualified,
        review,
        icp,
        raw.get("quality") or {},
        raw.get("vendor") or {},
        raw.get("disqualify") or {},
    )


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def _signals(value: object) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, str) and value.startswith("["):
        try:
            return len(json.loads(value))
        except json.JSONDecodeError:
            return 0
    return 0


class _Tally:
    """The running score of every row and the reasons that moved it, one per rule that did."""

    def __init__(self, frame: pd.DataFrame, base: float) -> None:
        self.index = frame.index
        self.score = pd.Series(base, index=frame.index, dtype=float)
        self.reasons: list[list[str]] = [[] for _ in range(len(frame))]

    def add(self, points: pd.Series, label: pd.Series | str) -> None:
        """Add ``points`` per row, with ``label`` (per row or one for all) as its reason."""
        points = points.fillna(0.0).astype(float)
        self.score = self.score + points
        labels = label if isinstance(label, pd.Series) else pd.Series(label, index=self.index)
        for i, (p, text) in enumerate(zip(points.tolist(), labels.tolist(), strict=True)):
            if p:
                self.reasons[i].append(f"{text} ({'+' if p > 0 else ''}{p:g})")


def score_leads(frame: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """``score``, ``status`` and ``reasons`` (a list per row) for every row of ``frame``."""
    tally = _Tally(frame, config.base)
    _add_icp_fit(tally, frame, config.icp)
    _add_reachability(tally, frame, config.quality)
    _add_vendor_signals(tally, frame, config.vendor)
    score = tally.score.clip(0, 100).round(1)
    status = _statuses(frame, score, tally.reasons, config)
    return pd.DataFrame(
        {"score": score, "status": status, "reasons": tally.reasons}, index=frame.index
    )


def _add_icp_fit(tally: _Tally, frame: pd.DataFrame, icp: dict) -> None:
    """Points for the profile's seniority, function, headcount, industry, country and title."""
    for field_name, column in (
        ("seniority", "seniority"),
        ("function", "job_function"),
        ("headcount", "headcount_bucket"),
        ("industry", "industry"),
        ("country", "country"),
    ):
        table = icp.get(field_name) or {}
        values = _col(frame, column)
        tally.add(values.map(table).astype(float), field_name + " " + values.fillna("").astype(str))
    title = _col(frame, "title_normalized").fillna("").astype(str).str.lower()
    for keyword, points in (icp.get("title_keywords") or {}).items():
        tally.add(
            title.str.contains(keyword, regex=False).astype(float) * points,
            f"title mentions '{keyword}'",
        )


def _add_reachability(tally: _Tally, frame: pd.DataFrame, quality: dict) -> None:
    """Points for the email verdict, a role mailbox, the phone type and profile completeness."""
    status = _col(frame, "email_status").fillna("").astype(str)
    has_email = _col(frame, "email").notna()
    email_points = (
        status.map(quality.get("email_status") or {})
        .astype(float)
        .where(has_email, float(quality.get("no_email", 0)))
    )
    tally.add(
        email_points,
        ("email " + status.where(status != "", "status unknown")).where(has_email, "no email"),
    )
    if "role_account" in quality:
        is_role = _col(frame, "email_is_role").map(lambda v: 1.0 if v is True or v == 1 else 0.0)
        tally.add(is_role * quality["role_account"], "role account email")
    phone_type = _col(frame, "phone_type").fillna("")
    tally.add(
        phone_type.map(quality.get("phone_type") or {}).astype(float),
        "phone " + phone_type.astype(str),
    )
    key_fields = ["full_name", "title_normalized", "company_name", "domain", "country"]
    # A Series start (not sum's int 0) keeps the total a Series for the checker; same values.
    present = (_col(frame, f).notna().astype(float) for f in key_fields)
    share = sum(present, pd.Series(0.0, index=frame.index)) / len(key_fields)
    tally.add(
        (share * float(quality.get("completeness", 0))).round(1),
        "profile completeness " + (share * 100).round().astype(int).astype(str) + "%",
    )


def _add_vendor_signals(tally: _Tally, frame: pd.DataFrame, vendor: dict) -> None:
    """Points for Leedrush's score and its account signals (capped)."""
    vendor_score = pd.to_numeric(_col(frame, "vendor_score"), errors="coerce")
    tally.add(
        (vendor_score * float(vendor.get("score_weight", 0))).round(1),
        "Leedrush score " + vendor_score.fillna(0).round().astype(int).astype(str),
    )
    signals = _col(frame, "signals").map(_signals).fillna(0)
    tally.add(
        (signals * float(vendor.get("signal_points", 0))).clip(
            upper=float(vendor.get("max_signal_points", 100))
        ),
        "account signals",
    )


def _statuses(
    frame: pd.DataFrame, score: pd.Series, reasons: list[list[str]], config: ScoringConfig
) -> pd.Series:
    """QUALIFIED / REVIEW / DISQUALIFIED by threshold, an unreachable lead disqualified whatever
    its score; the deciding reason goes first."""
    out_status = pd.Series("DISQUALIFIED", index=frame.index)
    out_status[score >= config.review] = "REVIEW"
    out_status[score >= config.qualified] = "QUALIFIED"
    bad = set((config.disqualify or {}).get("email_status_without_phone") or [])
    email_status = _col(frame, "email_status").fillna("").astype(str)
    hard = email_status.isin(bad) & _col(frame, "phone_e164").isna()
    out_status[hard] = "DISQUALIFIED"
    for i, (st, sc, is_hard) in enumerate(
        zip(out_status.tolist(), score.tolist(), hard.tolist(), strict=True)
    ):
        if is_hard:
            reasons[i].insert(0, "unreachable: undeliverable email and no phone")
        elif st == "QUALIFIED":
            reasons[i].insert(0, f"score {sc:g} >= {config.qualified:g}")
        elif st == "REVIEW":
            reasons[i].insert(0, f"score {sc:g} between {config.review:g} and {config.qualified:g}")
        else:
            reasons[i].insert(0, f"score {sc:g} < {config.review:g}")
    return out_status
