"""Standardization of a batch of raw leads into the ``standardized_leads`` shape.

Each normalizer runs once per *distinct* value (or tuple of values) in the batch and the answers
are mapped back, because the field libraries cost ~10-100 µs a call and lead files repeat values
(companies, titles, countries, names) far more than they vary.

Row outcome: ``rejected`` when the row was malformed in the file (``malformed_row``) or when the
lead cannot be identified, i.e. it has neither a valid email nor a name plus a company or domain
(``no_contact_identity``). Otherwise ``ok``. Warning codes (``invalid_email``, ``invalid_phone``,
``unknown_country``, ``unreadable_headcount``) can appear on ok rows. Always rows_in = ok + rejected.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from lead_assets.core.distinct import map_unique
from lead_assets.core.gc_pause import paused_gc
from lead_assets.core.headers import CANONICAL_FIELDS
from lead_assets.core.missing import none_for_missing
from lead_assets.core.normalize.companies import normalize_company
from lead_assets.core.normalize.domains import domain_from_url
from lead_assets.core.normalize.emails import normalize_email
from lead_assets.core.normalize.headcount import headcount_bucket
from lead_assets.core.normalize.locations import parse_location
from lead_assets.core.normalize.names import split_name
from lead_assets.core.normalize.phones import normalize_phone
from lead_assets.core.normalize.titles import normalize_title

#: Columns produced, in the order of the ``standardized_leads`` table (batch_key and
#: standardized_at are set by the caller).
OUTPUT_COLUMNS = (
    "row_id",
    "source",
    "status",
    "reasons",
    "first_name",
    "middle_name",
    "last_name",
    "full_name",
    "email",
    "email_match_key",
    "email_domain",
    "email_is_role",
    "email_is_free",
    "email_is_disposable",
    "phone_e164",
    "phone_type",
    "title",
    "title_normalized",
    "seniority",
    "job_function",
    "company_name",
    "company_key",
    "domain",
    "city",
    "region",
    "country",
    "headcount_bucket",
    "industry",
    "linkedin_url",
    "vendor_lead_id",
)
FILL_RATE_FIELDS = (
    "email",
    "phone_e164",
    "first_name",
    "last_name",
    "title_normalized",
    "seniority",
    "company_name",
    "domain",
    "country",
    "headcount_bucket",
    "linkedin_url",
)
REJECTION_CODES = ("malformed_row", "no_contact_identity")


@dataclass
class StandardizeStats:
    """Per-batch accounting: rows_in = ok + rejected, reasons of rejections, warnings, fill rates."""

    rows_in: int
    ok: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    fill_rates: dict[str, float] = field(default_factory=dict)


@dataclass
class StandardizeResult:
    """The standardized frame and its stats."""

    frame: pd.DataFrame
    stats: StandardizeStats


def _as_text(value: object) -> str:
    """Cell -> text: None/NaN -> "", 4155550100.0 -> "4155550100" (JSON numbers), else str."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | dict):
        return ""
    return str(value).strip()


def _column(rows: pd.DataFrame, name: str) -> list[str]:
    if name not in rows:
        return [""] * len(rows)
    series = rows[name]
    if series.dtype == object and series.map(type).isin([str]).all():
        return [s.strip() for s in series.tolist()]
    return [_as_text(v) for v in series.tolist()]


_LINKEDIN = re.compile(r"linkedin\.com/(in|pub|company|sales/lead)/([^/?#\s]+)", re.IGNORECASE)


def normalize_linkedin(raw: str) -> str | None:
    """Canonical ``https://www.linkedin.com/in/<slug>`` form, or None."""
    match = _LINKEDIN.search(raw)
    if not match:
        return None
    return f"https://www.linkedin.com/{match.group(1).lower()}/{match.group(2).strip().rstrip('/').lower()}"


@dataclass
class _Normalized:
    """Each field's normalized value per row (computed once per distinct raw value)."""

    names: list  # (first, middle, last, full)
    emails: list  # NormalizedEmail
    places: list  # (city, region, country)
    phones: list  # (e164, type)
    titles: list  # (normalized, seniority, function)
    companies: list  # (name, key)
    web_domains: list
    buckets: list
    linkedins: list


def _normalize_columns(get: dict[str, list[str]], default_region: str) -> _Normalized:
    places = map_unique(
        list(zip(get["city"], get["region"], get["country"], get["location"], strict=True)),
        parse_location,
        star=True,
    )
    regions = [p[2] or default_region for p in places]
    return _Normalized(
        names=map_unique(
            list(zip(get["first_name"], get["last_name"], get["full_name"], strict=True)),
            split_name,
            star=True,
        ),
        emails=map_unique(get["email"], normalize_email),
        places=places,
        phones=map_unique(
            list(zip(get["phone"], regions, strict=True)), normalize_phone, star=True
        ),
        titles=map_unique(get["title"], normalize_title),
        companies=map_unique(get["company_name"], normalize_company),
        web_domains=map_unique(get["domain"], lambda raw: domain_from_url(raw) if raw else None),
        buckets=map_unique(get["headcount"], lambda raw: headcount_bucket(raw) if raw else None),
        linkedins=map_unique(
            get["linkedin_url"], lambda raw: normalize_linkedin(raw) if raw else None
        ),
    )


@dataclass
class _Decisions:
    """Per row: ok or rejected, the reason codes (rejections first), and the domain kept."""

    status: list[str]
    reasons: list[list[str]]
    domains: list[str | None]


def _decide(get: dict[str, list[str]], norm: _Normalized, parse_errors: list) -> _Decisions:
    """Warnings for unreadable values; a row is rejected when malformed in the file or when
    nothing identifies the contact (no valid email, and no name with a company or domain)."""
    decided = _Decisions([], [[] for _ in parse_errors], [])
    for i, error in enumerate(parse_errors):
        reasons = decided.reasons[i]
        email = norm.emails[i]
        if get["email"][i] and email.email is None:
            reasons.append("invalid_email")
        if get["phone"][i] and norm.phones[i][0] is None:
            reasons.append("invalid_phone")
        if (
            (get["country"][i] or get["location"][i])
            and norm.places[i][2] is None
            and not get["city"][i]
        ):
            reasons.append("unknown_country")
        if get["headcount"][i] and norm.buckets[i] is None:
            reasons.append("unreadable_headcount")
        domain = norm.web_domains[i]
        if domain is None and email.email and not email.is_free and not email.is_disposable:
            domain = email.domain
        decided.domains.append(domain)
        first, _middle, last, full = norm.names[i]
        has_name = bool(full) and (bool(first) or bool(last))
        identified = email.email is not None or (has_name and bool(norm.companies[i][0] or domain))
        if isinstance(error, str) and error:
            reasons.insert(0, "malformed_row")
            decided.status.append("rejected")
        elif not identified:
            reasons.insert(0, "no_contact_identity")
            decided.status.append("rejected")
        else:
            decided.status.append("ok")
    return decided


def _nz(value: object) -> object:
    return value if value not in ("", None) else None


def _output_frame(
    row_ids: list[str],
    sources: list[str],
    get: dict[str, list[str]],
    norm: _Normalized,
    decided: _Decisions,
) -> pd.DataFrame:
    names, emails, places, phones = norm.names, norm.emails, norm.places, norm.phones
    titles, companies = norm.titles, norm.companies
    return pd.DataFrame(
        {
            "row_id": row_ids,
            "source": sources,
            "status": decided.status,
            "reasons": [";".join(r) for r in decided.reasons],
            "first_name": [_nz(x[0]) for x in names],
            "middle_name": [_nz(x[1]) for x in names],
            "last_name": [_nz(x[2]) for x in names],
            "full_name": [_nz(x[3]) for x in names],
            "email": [e.email for e in emails],
            "email_match_key": [e.match_key for e in emails],
            "email_domain": [e.domain for e in emails],
            "email_is_role": [e.is_role if e.email else None for e in emails],
            "email_is_free": [e.is_free if e.email else None for e in emails],
            "email_is_disposable": [e.is_disposable if e.email else None for e in emails],
            "phone_e164": [p[0] for p in phones],
            "phone_type": [p[1] for p in phones],
            "title": [_nz(t) for t in get["title"]],
            "title_normalized": [_nz(t[0]) for t in titles],
            "seniority": [t[1] for t in titles],
            "job_function": [t[2] for t in titles],
            "company_name": [_nz(c[0]) for c in companies],
            "company_key": [_nz(c[1]) for c in companies],
            "domain": decided.domains,
            "city": [p[0] for p in places],
            "region": [p[1] for p in places],
            "country": [p[2] for p in places],
            "headcount_bucket": norm.buckets,
            "industry": [_nz(x) for x in get["industry"]],
            "linkedin_url": norm.linkedins,
            "vendor_lead_id": [_nz(x) for x in get["vendor_lead_id"]],
        },
        columns=list(OUTPUT_COLUMNS),
    )


def _stats(frame: pd.DataFrame, reasons: list[list[str]]) -> StandardizeStats:
    """Rows in / ok / rejected, rejections and warnings by code, fill rates of the ok rows."""
    ok_mask = frame["status"] == "ok"
    rejected_reasons: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for status, codes in zip(frame["status"], reasons, strict=True):
        for code in codes:
            if code in REJECTION_CODES and status == "rejected":
                rejected_reasons[code] += 1
            elif code not in REJECTION_CODES:
                warnings[code] += 1
    ok_count = int(ok_mask.sum())
    fill = {
        f: (float(frame.loc[ok_mask, f].notna().mean()) if ok_count else 0.0)
        for f in FILL_RATE_FIELDS
    }
    return StandardizeStats(
        rows_in=len(frame),
        ok=ok_count,
        rejected=len(frame) - ok_count,
        reasons=dict(rejected_reasons),
        warnings=dict(warnings),
        fill_rates=fill,
    )


@paused_gc()
def standardize_rows(
    rows: pd.DataFrame,
    *,
    batch_key: str | None = None,
    source: str = "file",
    default_region: str = "US",
) -> StandardizeResult:
    """Standardize canonical-column rows (see ``lead_assets.core.headers``).

    ``rows`` needs ``row_id``; any canonical field may be missing. An optional ``parse_error``
    column marks rows that were malformed in the file; an optional ``source`` column overrides
    ``source`` per row. ``batch_key`` is accepted for logging symmetry and not stored here.
    """
    n = len(rows)
    get = {name: _column(rows, name) for name in CANONICAL_FIELDS}
    norm = _normalize_columns(get, default_region)
    parse_errors = rows["parse_error"].tolist() if "parse_error" in rows else [None] * n
    decided = _decide(get, norm, parse_errors)
    row_ids = (
        rows["row_id"].astype(str).tolist() if "row_id" in rows else [str(i + 1) for i in range(n)]
    )
    sources = _column(rows, "source") if "source" in rows else [source] * n
    frame = _output_frame(row_ids, sources, get, norm, decided)
    return StandardizeResult(none_for_missing(frame), _stats(frame, decided.reasons))


#: Below this many rows one process is faster than starting workers and shipping frames back.
PARALLEL_FROM_ROWS = 200_000

_SHARED_ROWS: pd.DataFrame | None = None  # set before forking: workers read their slice from it


def _standardize_slice(bounds: tuple[int, int], options: dict[str, str]) -> StandardizeResult:
    assert _SHARED_ROWS is not None
    return standardize_rows(_SHARED_ROWS.iloc[bounds[0] : bounds[1]], **options)


def merge_results(parts: Sequence[StandardizeResult]) -> StandardizeResult:
    """One result from consecutive slices' results: frames concatenated in order, counts
    summed, fill rates weighted by each slice's ok rows."""
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    ok = sum(p.stats.ok for p in parts)
    reasons: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for p in parts:
        reasons.update(p.stats.reasons)
        warnings.update(p.stats.warnings)
    fill = {
        f: (sum(p.stats.fill_rates.get(f, 0.0) * p.stats.ok for p in parts) / ok if ok else 0.0)
        for f in FILL_RATE_FIELDS
    }
    stats = StandardizeStats(
        rows_in=sum(p.stats.rows_in for p in parts),
        ok=ok,
        rejected=sum(p.stats.rejected for p in parts),
        reasons=dict(reasons),
        warnings=dict(warnings),
        fill_rates=fill,
    )
    return StandardizeResult(frame, stats)


def standardize_large(
    rows: pd.DataFrame,
    *,
    source: str = "file",
    default_region: str = "US",
    workers: int | None = None,
    min_rows: int = PARALLEL_FROM_ROWS,
) -> StandardizeResult:
    """:func:`standardize_rows` on every core for a large file (``lead-assets dedupe``).

    Rows are independent, so slices standardized in parallel and concatenated in order give the
    same frame as one call. This process standardizes the first slice itself while a forked worker
    per other core does the rest: workers fork with ``rows`` already in memory, so only their
    answers are pickled, and no process sits idle holding a copy of what it waits for. Small
    inputs, or a platform without ``fork``, run in this process."""
    import itertools
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    global _SHARED_ROWS
    options = {"source": source, "default_region": default_region}
    count = workers or len(os.sched_getaffinity(0))
    n = len(rows)
    if count < 2 or n < min_rows or "fork" not in multiprocessing.get_all_start_methods():
        return standardize_rows(rows, source=source, default_region=default_region)
    slices = list(itertools.pairwise([n * i // count for i in range(count + 1)]))
    _SHARED_ROWS = rows
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(count - 1, mp_context=context) as pool:
            others = [pool.submit(_standardize_slice, bounds, options) for bounds in slices[1:]]
            first = _standardize_slice(slices[0], options)
            parts = [first, *(future.result() for future in others)]
    finally:
        _SHARED_ROWS = None
    return merge_results(parts)
