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


def score_leads(frame: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """``score``, ``status`` and ``reasons`` (a list per row) for every row of ``frame``."""
    n = len(frame)
    score = pd.Series(config.base, index=frame.index, dtype=float)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def add(points: pd.Series, label: pd.Series | str) -> None:
        nonlocal score
        points = points.fillna(0.0).astype(float)
        score = score + points
        labels = label if isinstance(label, pd.Series) else pd.Series(label, index=frame.index)
        for i, (p, text) in enumerate(zip(points.tolist(), labels.tolist(), strict=True)):
            if p:
                reasons[i].append(f"{text} ({'+' if p > 0 else ''}{p:g})")

    icp = config.icp
    for field_name, column in (
        ("seniority", "seniority"),
        ("function", "job_function"),
        ("headcount", "headcount_bucket"),
        ("industry", "industry"),
        ("country", "country"),
    ):
        table = icp.get(field_name) or {}
        values = _col(frame, column)
        add(values.map(table).astype(float), field_name + " " + values.fillna("").astype(str))
    title = _col(frame, "title_normalized").fillna("").astype(str).str.lower()
    for keyword, points in (icp.get("title_keywords") or {}).items():
        add(
            title.str.contains(keyword, regex=False).astype(float) * points,
            f"title mentions '{keyword}'",
        )

    quality = config.quality
    status = _col(frame, "email_status").fillna("").astype(str)
    has_email = _col(frame, "email").notna()
    email_points = (
        status.map(quality.get("email_status") or {})
        .astype(float)
        .where(has_email, float(quality.get("no_email", 0)))
    )
    add(
        email_points,
        ("email " + status.where(status != "", "status unknown")).where(has_email, "no email"),
    )
    if "role_account" in quality:
        is_role = _col(frame, "email_is_role").map(lambda v: 1.0 if v is True or v == 1 else 0.0)
        add(is_role * quality["role_account"], "role account email")
    phone_type = _col(frame, "phone_type").fillna("")
    add(
        phone_type.map(quality.get("phone_type") or {}).astype(float),
        "phone " + phone_type.astype(str),
    )
    key_fields = ["full_name", "title_normalized", "company_name", "domain", "country"]
    # A Series start (not sum's int 0) keeps the total a Series for the checker; same values.
    present = (_col(frame, f).notna().astype(float) for f in key_fields)
    share = sum(present, pd.Series(0.0, index=frame.index)) / len(key_fields)
    add(
        (share * float(quality.get("completeness", 0))).round(1),
        "profile completeness " + (share * 100).round().astype(int).astype(str) + "%",
    )

    vendor = config.vendor
    vendor_score = pd.to_numeric(_col(frame, "vendor_score"), errors="coerce")
    add(
        (vendor_score * float(vendor.get("score_weight", 0))).round(1),
        "Leedrush score " + vendor_score.fillna(0).round().astype(int).astype(str),
    )
    signals = _col(frame, "signals").map(_signals).fillna(0)
    add(
        (signals * float(vendor.get("signal_points", 0))).clip(
            upper=float(vendor.get("max_signal_points", 100))
        ),
        "account signals",
    )

    score = score.clip(0, 100).round(1)
    out_status = pd.Series("DISQUALIFIED", index=frame.index)
    out_status[score >= config.review] = "REVIEW"
    out_status[score >= config.qualified] = "QUALIFIED"
    bad = set((config.disqualify or {}).get("email_status_without_phone") or [])
    hard = status.isin(bad) & _col(frame, "phone_e164").isna()
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
    return pd.DataFrame(
        {"score": score, "status": out_status, "reasons": reasons}, index=frame.index
    )
