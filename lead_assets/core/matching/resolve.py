"""Entity resolution over standardized leads: exact keys first, then every candidate pair scored
on all its evidence (names with nicknames and typos, organization, phone, mailboxes, country,
title) with the weights of :mod:`lead_assets.core.matching.settings`, a union-find whose
cluster-level guards refuse merges that would chain unrelated records, survivorship per cluster.

Precision first, without vetoing the normal case: a work mailbox next to a personal free-mail one
costs a little score; two different work mailboxes, two different free-mail addresses, or (without
a shared phone and surname) two different organizations keep clusters apart. Cluster ids derive
from the smallest member key, so a re-run over the same rows gives the same ids.

Input columns: ``key`` (unique across the warehouse, e.g. ``batch|row``), first_name, last_name,
email_match_key, email_is_free, email_is_role, phone_e164, phone_type, linkedin_url,
vendor_lead_id, company_key, domain, company_name, country, title_normalized, plus any fields used
for survivorship. Missing columns are treated as empty.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from lead_assets.core.distinct import map_unique
from lead_assets.core.gc_pause import paused_gc
from lead_assets.core.matching.nicknames import canonical_first
from lead_assets.core.matching.settings import MATCH_SETTINGS, Blocking, Guards, MatchSettings
from lead_assets.core.normalize.companies import ascii_fold
from lead_assets.core.normalize.emails import FREE_MAIL_DOMAINS

# Kept for callers of earlier releases; the live values are in MATCH_SETTINGS.
NAME_THRESHOLD = 0.92
MAX_BLOCK = MATCH_SETTINGS.blocking.max_block
#: Every column :func:`cluster` reads (the module docstring says what each means).
CLUSTER_COLUMNS = (
    "key",
    "first_name",
    "last_name",
    "email_match_key",
    "email_is_free",
    "email_is_role",
    "phone_e164",
    "phone_type",
    "linkedin_url",
    "vendor_lead_id",
    "company_key",
    "domain",
    "company_name",
    "country",
    "title_normalized",
)
SURVIVOR_FIELDS = (
    "email_match_key",
    "phone_e164",
    "title_normalized",
    "company_name",
    "domain",
    "country",
    "linkedin_url",
)


@dataclass
class Resolution:
    """Cluster and account per input row, plus the account table."""

    clusters: (
        pd.DataFrame
    )  # key, lead_cluster_id, account_id, link_confidence, link_rule, is_survivor
    accounts: pd.DataFrame  # account_id, name, company_key, domain, industry, headcount_bucket, country, lead_count, field_sources


class _Clusters:
    """Union-find whose roots remember each cluster's work and free-mail mailboxes (with their
    domains) and organizations, so guards judge whole clusters, not single links."""

    def __init__(
        self,
        work: list[str | None],
        free: list[str | None],
        domains: list[str],
        company_keys: list[str],
        guards: Guards = MATCH_SETTINGS.guards,
    ) -> None:
        n = len(work)
        self.guards = guards
        self.parent = list(range(n))
        # Each row's own mailbox and organizations; a root's merged sets are made on its first
        # union only (a million small sets built up front cost seconds, most rows never merge).
        self._own_work = work
        self._own_free = free
        self._own_domain = domains
        self._own_company = company_keys
        self._merged: dict[int, tuple[set[str], set[str], set[str]]] = {}
        self.rule: list[tuple[float, str]] = [(1.0, "single")] * n

    def _sets(self, root: int) -> tuple[set[str], set[str], set[str]]:
        """(work mailboxes, free-mail mailboxes, organizations) of a root's cluster."""
        merged = self._merged.get(root)
        if merged is not None:
            return merged
        work, free = self._own_work[root], self._own_free[root]
        return (
            {work} if work else set(),
            {free} if free else set(),
            _org_set(self._own_domain[root], self._own_company[root]),
        )

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(
        self, a: int, b: int, confidence: float, rule: str, *, require_same_org: bool
    ) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        guards = self.guards
        work_a, free_a, orgs_a = self._sets(ra)
        work_b, free_b, orgs_b = self._sets(rb)
        # Two different work mailboxes (at one domain: colleagues of one name; elsewhere: two
        # people) and two different personal mailboxes are two people, whatever links them.
        if guards.distinct_work_mailboxes and work_a and work_b and not work_a & work_b:
            return False
        if guards.distinct_free_mailboxes and free_a and free_b and not free_a & free_b:
            return False
        # A link across two companies is a namesake, not a duplicate, unless the caller has
        # stronger evidence (a shared phone and surname, an exact key).
        if (
            require_same_org
            and guards.namesakes_at_other_organizations
            and orgs_a
            and orgs_b
            and not orgs_a & orgs_b
        ):
            return False
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self._merged.pop(rb, None)
        self._merged[ra] = (work_a | work_b, free_a | free_b, orgs_a | orgs_b)
        for i in (a, b):
            if self.rule[i][1] == "single" or confidence < self.rule[i][0]:  # keep the weakest link
                self.rule[i] = (confidence, rule)
        return True


def _org_set(domain: str, company_key: str) -> set[str]:
    """An organization is known by its domain and by its company key; sharing either one
    counts as the same organization."""
    return ({f"d:{domain}"} if domain else set()) | ({f"c:{company_key}"} if company_key else set())


def _window_pairs(group: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """Pairs ``(rows[p], rows[p + k])`` for ``1 <= k <= window`` where ``group[p] ==
    group[p + k]``, ``group`` sorted: every pair of a group up to ``window + 1`` long, and a
    sliding window over longer ones."""
    out = [np.empty((0, 2), dtype=np.int64)]
    for k in range(1, window + 1):
        if k >= len(rows):
            break
        same = group[k:] == group[:-k]
        if not same.any():
            break  # sorted: no group spans k + 1 rows, so none spans more
        out.append(np.stack([rows[:-k][same], rows[k:][same]], axis=1))
    return np.concatenate(out)


def candidate_pairs(
    first: list[str],
    last: list[str],
    domains: list[str],
    company_keys: list[str],
    phones: list[str],
    blocking: Blocking,
) -> np.ndarray:
    """Every candidate pair ``(a, b)``, ``a < b``, once, sorted: rows sharing a phone (groups of
    at most ``max_phone_group``), and rows of one organization block (domain or company key)
    whose surname or first name starts alike, compared within a window of ``max_block`` after
    sorting each block by (surname, first name). Vectorized: a million rows make ~4 million
    block entries."""
    n = len(first)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    pairs = []
    # Phones: all pairs of each small group.
    phone = pd.Series(phones)
    sizes = phone.map(phone.value_counts())
    keep = (phone != "").to_numpy() & (sizes <= blocking.max_phone_group).to_numpy()
    codes = pd.factorize(phone)[0]
    order = np.lexsort((rows[keep], codes[keep]))
    pairs.append(_window_pairs(codes[keep][order], rows[keep][order], blocking.max_phone_group - 1))
    # Organization-and-name blocks ("d:acme.com|jo"), the same blocks as name_blocks().
    width = blocking.name_prefix
    org_codes = [pd.factorize(pd.Series(domains))[0], pd.factorize(pd.Series(company_keys))[0]]
    org_codes[1] = org_codes[1] + org_codes[0].max() + 1  # "d:x" and "c:x" are two blocks
    org_present = [np.array([bool(d) for d in domains]), np.array([bool(c) for c in company_keys])]
    prefixes = [pd.Series(last).str[:width], pd.Series(first).str[:width]]
    part_codes, part_names = pd.factorize(pd.concat(prefixes, ignore_index=True))
    part_codes = part_codes.reshape(2, n)
    part_present = [(p != "").to_numpy() for p in prefixes]
    n_parts = len(part_names)
    block_of, row_of = [], []
    for org, has_org in zip(org_codes, org_present, strict=True):
        for part, has_part in zip(part_codes, part_present, strict=True):
            mask = has_org & has_part
            block_of.append(org[mask].astype(np.int64) * n_parts + part[mask])
            row_of.append(rows[mask])
    entries = pd.DataFrame({"block": np.concatenate(block_of), "row": np.concatenate(row_of)})
    entries = entries.drop_duplicates()  # surname and first name with one prefix: one entry
    last_rank = pd.factorize(pd.Series(last), sort=True)[0]
    first_rank = pd.factorize(pd.Series(first), sort=True)[0]
    block, row = entries["block"].to_numpy(), entries["row"].to_numpy()
    order = np.lexsort((row, first_rank[row], last_rank[row], block))
    pairs.append(_window_pairs(block[order], row[order], blocking.max_block))
    both = np.concatenate(pairs)
    both = np.sort(both, axis=1)
    unique = np.unique(both[:, 0] * n + both[:, 1])
    return np.stack([unique // n, unique % n], axis=1)


def _text(frame: pd.DataFrame, name: str) -> list[str]:
    """A column as text, missing values (None, NaN) as ``""``; one vectorized pass, not a
    Python check per cell (23 columns of a million rows each)."""
    if name not in frame:
        return [""] * len(frame)
    column = frame[name]
    return column.where(column.notna(), "").astype(str).tolist()


# A flag as the warehouses return it: PostgreSQL gives bools, SQLite 1/0, and a column with a
# missing value comes back as floats (1.0), so the text of a true flag has several spellings.
_TRUE = frozenset({"True", "true", "1", "1.0", "t", "yes"})


def _flags(frame: pd.DataFrame, name: str) -> list[str]:
    """``"1"`` where the flag is set, ``"0"`` where it is not, ``""`` where it is unknown."""
    return ["" if not v else ("1" if v in _TRUE else "0") for v in _text(frame, name)]


def _digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _stable_id(prefix: str, text: str) -> str:
    return prefix + hashlib.sha1(text.encode()).hexdigest()[:12]


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


class _Scorer:
    """Scores one candidate pair with the comparison weights (see settings.Comparisons)."""

    def __init__(self, frame: pd.DataFrame, settings: MatchSettings) -> None:
        self.w = settings.comparisons
        raw_first = map_unique(_text(frame, "first_name"), lambda v: ascii_fold(v).strip().lower())
        self.first = map_unique(raw_first, canonical_first)
        # Folding a nickname can hide a typo ("eliza" -> "elizabeth" vs "eriaz"): both are compared.
        self.raw_first = raw_first
        self.last = map_unique(
            _text(frame, "last_name"), lambda v: ascii_fold(v).lower().replace(" ", "")
        )
        first_digits = map_unique(raw_first, _digits_of)
        last_digits = map_unique(self.last, _digits_of)
        #: The digits of each row's names ("" for the usual name without any).
        self.name_digits = [
            f"{f}|{la}" if f or la else "" for f, la in zip(first_digits, last_digits, strict=True)
        ]
        self.phone = _text(frame, "phone_e164")
        self.phone_type = _text(frame, "phone_type")
        self.country = _text(frame, "country")
        self.title = _text(frame, "title_normalized")
        self.company_key = _text(frame, "company_key")

    def org_alike(self, a: int, b: int) -> bool:
        """Company keys that differ by a typo (only asked when no domain or key is shared)."""
        ka, kb = self.company_key[a], self.company_key[b]
        return bool(ka and kb) and JaroWinkler.similarity(ka, kb) >= self.w.org_similar_at

    def first_weight(self, f1: str, f2: str) -> float:
        w = self.w
        if not (f1 and f2):
            return 0.0
        if f1 == f2:
            return w.first_exact
        short, long = (f1, f2) if len(f1) <= len(f2) else (f2, f1)
        if len(short) == 1 and long.startswith(short):
            return w.first_initial
        if len(short) >= 3 and long.startswith(short):
            return w.first_prefix
        similarity = JaroWinkler.similarity(f1, f2)
        if similarity >= w.first_similar_at:
            return w.first_similar
        if similarity >= w.first_weak_at:
            return w.first_weak
        return w.first_differs

    def last_weight(self, l1: str, l2: str) -> float:
        w = self.w
        if not (l1 and l2):
            return 0.0
        if l1 == l2:
            return w.last_exact
        if JaroWinkler.similarity(l1, l2) >= w.last_similar_at:
            return w.last_similar
        return w.last_differs

    def names(self, a: int, b: int) -> tuple[float, float]:
        """(first-name weight, surname weight), in whichever orientation fits better (first and
        last name swapped is a common export error)."""
        f1, l1, f2, l2 = self.first[a], self.last[a], self.first[b], self.last[b]
        first_w = self.first_weight(f1, f2)
        if first_w < self.w.first_exact and (self.raw_first[a], self.raw_first[b]) != (f1, f2):
            first_w = max(first_w, self.first_weight(self.raw_first[a], self.raw_first[b]))
        straight = (first_w, self.last_weight(l1, l2))
        if f1 and l1 and f2 and l2 and f1 != f2 and (f1 == l2 or l1 == f2):
            swapped = (self.first_weight(f1, l2), self.last_weight(l1, f2))
            if sum(swapped) > sum(straight):
                return swapped
        return straight


def name_blocks(frame: pd.DataFrame, settings: MatchSettings = MATCH_SETTINGS) -> list[set[str]]:
    """Each row's organization-and-name blocks (``"d:acme.com|jo"``), exactly as :func:`resolve`
    forms them: the incremental path uses them to read only the resolved leads a batch's leads
    can be compared with, instead of everybody at their organizations."""
    width = settings.blocking.name_prefix
    out = []
    for first, last, domain, company in zip(
        (canonical_first(ascii_fold(v)) for v in _text(frame, "first_name")),
        (ascii_fold(v).lower().replace(" ", "") for v in _text(frame, "last_name")),
        _text(frame, "domain"),
        _text(frame, "company_key"),
        strict=True,
    ):
        orgs = ({f"d:{domain}"} if domain else set()) | ({f"c:{company}"} if company else set())
        parts = {last[:width], first[:width]} - {""}
        out.append({f"{org}|{part}" for org in orgs for part in parts})
    return out


def resolve(frame: pd.DataFrame, settings: MatchSettings = MATCH_SETTINGS) -> Resolution:
    """Cluster every row of ``frame`` (see the module docstring for the columns) and build the
    accounts of those clusters."""
    clusters = cluster(frame, settings)
    return Resolution(clusters, build_accounts(frame, clusters))


@dataclass
class _Rows:
    """The per-row evidence the rules read, as plain lists: a list index per candidate pair is
    far cheaper than a pandas lookup."""

    keys: list[str]
    scorer: _Scorer
    role: list[bool]
    is_free: list[bool]
    #: The mailbox when it can identify a person (None for a role mailbox such as info@).
    personal: list[str | None]
    work: list[str | None]
    free: list[str | None]
    domains: list[str]
    company_keys: list[str]
    #: The letters of each mailbox's local part, asked for a surname in many pairs.
    local_letters: list[str]


def _rows(frame: pd.DataFrame, settings: MatchSettings) -> _Rows:
    emails = [v or None for v in _text(frame, "email_match_key")]
    role = [v == "1" for v in _flags(frame, "email_is_role")]
    free_flag = _flags(frame, "email_is_free")
    is_free = [
        (f == "1") if f else bool(e and e.rpartition("@")[2] in FREE_MAIL_DOMAINS)
        for e, f in zip(emails, free_flag, strict=True)
    ]
    # A role mailbox identifies nobody, so it neither links nor separates people.
    personal = [None if r else e for e, r in zip(emails, role, strict=True)]
    return _Rows(
        keys=_text(frame, "key"),
        scorer=_Scorer(frame, settings),
        role=role,
        is_free=is_free,
        personal=personal,
        work=[e if e and not f else None for e, f in zip(personal, is_free, strict=True)],
        free=[e if e and f else None for e, f in zip(personal, is_free, strict=True)],
        domains=_text(frame, "domain"),
        company_keys=_text(frame, "company_key"),
        local_letters=[_letters(e.partition("@")[0]) if e else "" for e in personal],
    )


@paused_gc()
def cluster(frame: pd.DataFrame, settings: MatchSettings = MATCH_SETTINGS) -> pd.DataFrame:
    """Cluster every row of ``frame``: key, lead_cluster_id, account_id, link_confidence,
    link_rule, is_survivor per row. Accounts are left to :func:`build_accounts`, so a caller that
    rebuilds only some accounts (the incremental asset path) does not pay for all of them."""
    rows = _rows(frame, settings)
    uf = _Clusters(rows.work, rows.free, rows.domains, rows.company_keys, settings.guards)
    # 1. Exact keys: the same mailbox, LinkedIn profile or vendor id is the same person.
    _link_exact_keys(frame, rows, uf, settings)
    # 2. Candidate pairs: records sharing a phone, and records of one organization whose first
    # or last name starts alike (a typo in one part still shares the other's block, and swapped
    # names meet across keys).
    scorer = rows.scorer
    candidates = candidate_pairs(
        scorer.first, scorer.last, rows.domains, rows.company_keys, scorer.phone, settings.blocking
    )
    # 3. Score every candidate on all its evidence; link the strong ones, strongest first.
    for score, a, b, rule, cross_org in _scored_links(rows, candidates, settings):
        confidence = round(1 - 2.0 ** (-score), 4)
        uf.union(a, b, confidence, rule, require_same_org=not cross_org)
    # 4. Cluster ids, survivor flags and each cluster's account id.
    return _cluster_frame(frame, rows, uf)


def _link_exact_keys(
    frame: pd.DataFrame, rows: _Rows, uf: _Clusters, settings: MatchSettings
) -> None:
    """Union the rows sharing a mailbox, LinkedIn profile or vendor id, and the role mailboxes
    under one name."""
    role = np.array(rows.role, dtype=bool)
    emails = _text(frame, "email_match_key")
    for column in settings.blocking.exact_keys:
        rule = {"email_match_key": "email", "linkedin_url": "linkedin"}.get(column, "vendor_id")
        values = emails if column == "email_match_key" else _text(frame, column)
        # info@ or sales@ is shared by many people: not an identity.
        excluded = role if column == "email_match_key" else None
        for first, i in _repeats(values, exclude=excluded):
            uf.union(first, i, 1.0, rule, require_same_org=False)
    # A role mailbox under the same name (or under none) is one contact entry, e.g. "Info" at
    # info@northwind.io dropped again: the mailbox alone is no identity, mailbox and name are.
    first_names, last_names = rows.scorer.first, rows.scorer.last
    entries: list[object] = [
        (e, f, la) if e and r else ""
        for e, r, f, la in zip(emails, rows.role, first_names, last_names, strict=True)
    ]
    for first, i in _repeats(entries):
        uf.union(first, i, 1.0, "role_email_same_name", require_same_org=False)


def _repeats(values: list[Any], exclude: np.ndarray | None = None) -> list[tuple[int, int]]:
    """``(first row, row)`` for every row whose non-empty value an earlier row already has, in row
    order: what a loop remembering each value's first row would union, found by one factorize."""
    codes = pd.factorize(pd.Series(values, dtype=object))[0]
    present = np.array([bool(v) for v in values], dtype=bool)
    if exclude is not None:
        present &= ~exclude
    rows = np.flatnonzero(present)
    codes = codes[rows]
    # The first row of each value: rows are ascending, so a stable sort by code keeps row order.
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    leader = rows[order][_first_per_group(sorted_codes)]
    group = np.cumsum(_first_per_group(sorted_codes)) - 1
    first_of = np.empty(len(rows), dtype=np.int64)
    first_of[order] = leader[group]
    repeat = first_of != rows
    return list(zip(first_of[repeat].tolist(), rows[repeat].tolist(), strict=True))


def _scored_links(
    rows: _Rows, candidates: np.ndarray, settings: MatchSettings
) -> list[tuple[float, int, int, str, bool]]:
    """(score, a, b, rule, cross_org) of every candidate pair at or above the threshold,
    strongest first. One loop with the rules inline: it runs millions of times at 1M rows."""
    w = settings.comparisons
    scorer, personal, is_free = rows.scorer, rows.personal, rows.is_free
    last, local_letters = scorer.last, rows.local_letters
    domains, company_keys = rows.domains, rows.company_keys
    phone_count = pd.Series(scorer.phone).value_counts().to_dict()
    threshold = settings.clustering.threshold
    links: list[tuple[float, int, int, str, bool]] = []
    name_digits = scorer.name_digits
    for a, b in candidates.tolist():
        first_w, last_w = scorer.names(a, b)
        if name_digits[a] != name_digits[b] and name_digits[a] and name_digits[b]:
            first_w += w.name_digits_differ
        if first_w + last_w < threshold - 20:
            continue  # nothing else can lift two unrelated names over the threshold
        score = first_w + last_w
        parts = []
        if first_w > 0 or last_w > 0:
            parts.append("name" if first_w > 0 and last_w > 0 else "partial_name")
        da, db, ka, kb = domains[a], domains[b], company_keys[a], company_keys[b]
        if (da or ka) and (db or kb):
            if (da and da == db) or (ka and ka == kb):
                score += w.org_same
                parts.append("org")
            elif scorer.org_alike(a, b):
                score += w.org_similar
                parts.append("similar_org")
            else:
                score += w.org_differs
        pa, pb = scorer.phone[a], scorer.phone[b]
        shared_phone = bool(pa) and pa == pb and phone_count[pa] <= 50
        if shared_phone:
            kind = scorer.phone_type[a] if scorer.phone_type[a] == scorer.phone_type[b] else ""
            score += w.phone_same.get(kind, w.phone_same[""])
            parts.append("phone")
        elif pa and pb:
            score += w.phone_differs
        ea, eb = personal[a], personal[b]
        if ea and eb and ea != eb:
            if is_free[a] != is_free[b]:
                score += w.email_work_vs_free
            elif is_free[a]:
                score += w.email_both_free_differ
            else:
                score += w.email_work_differ
            for own, other in ((a, b), (b, a)):
                if len(last[other]) >= 3 and last[other] in local_letters[own]:
                    score += w.email_local_has_surname
                    break
        ca, cb = scorer.country[a], scorer.country[b]
        if ca and cb:
            score += w.country_same if ca == cb else w.country_differs
        if scorer.title[a] and scorer.title[a] == scorer.title[b]:
            score += w.title_same
        if score >= threshold:
            # Across organizations only a shared phone with an agreeing surname is enough.
            cross_org = shared_phone and last_w > 0
            links.append((score, a, b, "+".join(parts) or "scored", cross_org))
    links.sort(key=lambda t: (-t[0], t[1], t[2]))
    return links


def _cluster_frame(frame: pd.DataFrame, rows: _Rows, uf: _Clusters) -> pd.DataFrame:
    """Cluster ids (from the smallest member key), account ids and survivor flags per row."""
    n = len(frame)
    roots = np.array([uf.find(i) for i in range(n)], dtype=np.int64)
    orgs = [d or c or "" for d, c in zip(rows.domains, rows.company_keys, strict=True)]
    key_rank, key_names = pd.factorize(pd.Series(rows.keys, dtype=object), sort=True)
    cluster_ids = _cluster_ids(roots, key_rank, key_names)
    account_of = _cluster_accounts(roots, orgs)
    completeness = np.zeros(n, dtype=np.int64)
    for f in SURVIVOR_FIELDS:
        completeness += np.array([bool(v) for v in _text(frame, f)], dtype=np.int64)
    # The survivor is the most complete record, ties to the largest key.
    order = np.lexsort((-key_rank, -completeness, roots))
    is_survivor = np.zeros(n, dtype=bool)
    is_survivor[order[_first_per_group(roots[order])]] = True
    return pd.DataFrame(
        {
            "key": rows.keys,
            "lead_cluster_id": cluster_ids,
            "account_id": account_of,
            "link_confidence": [uf.rule[i][0] for i in range(n)],
            "link_rule": [uf.rule[i][1] for i in range(n)],
            "is_survivor": is_survivor,
        }
    )


def _rank(values: object) -> np.ndarray:
    """Each value's position among the sorted distinct values: sorting by these integers is
    sorting by the text (ties and all), without a Python string comparison per row pair."""
    return pd.factorize(pd.Series(values, dtype=object), sort=True)[0]


def _first_per_group(groups: np.ndarray) -> np.ndarray:
    """Mask of the first row of each run of equal values in sorted ``groups``."""
    first = np.ones(len(groups), dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    return first


def cluster_labels(
    roots: np.ndarray, keys: list[str], orgs: list[str]
) -> tuple[np.ndarray, list[str | None]]:
    """Stable ids for a clustering given as one integer label per row (``roots``): each row's
    cluster id (from the cluster's smallest key, so the same members always get the same id) and
    account id (see :func:`_cluster_accounts`). ``orgs`` is each row's domain, else company key."""
    key_rank, key_names = pd.factorize(pd.Series(keys, dtype=object), sort=True)
    return _cluster_ids(roots, key_rank, key_names), _cluster_accounts(roots, orgs)


def _cluster_ids(roots: np.ndarray, key_rank: np.ndarray, key_names: pd.Index) -> np.ndarray:
    """Each row's cluster id, from its cluster's smallest key (``key_rank``: each key's position
    among the sorted ``key_names``)."""
    smallest = pd.Series(key_rank).groupby(np.asarray(roots)).min()
    cluster_id = pd.Series(
        [_stable_id("lc_", k) for k in np.asarray(key_names)[np.asarray(smallest, dtype=np.intp)]],
        index=smallest.index,
    )
    return cluster_id.reindex(roots).to_numpy()


def _cluster_accounts(roots: np.ndarray, orgs: list[str]) -> list[str | None]:
    """Each cluster's account: its most frequent organization (domain, else company key), ties
    to the smallest; a cluster without any organization has no account."""
    roots = np.asarray(roots)
    known = np.array([bool(o) for o in orgs], dtype=bool)
    if not known.any():
        return [None] * len(roots)
    org_rank, org_names = pd.factorize(pd.Series(orgs, dtype=object)[known], sort=True)
    counts = (
        pd.DataFrame({"root": roots[known], "org": org_rank})
        .groupby(["root", "org"])
        .size()
        .reset_index(name="n")
    )
    root, org, n = (counts[c].to_numpy() for c in ("root", "org", "n"))
    order = np.lexsort((org, -n, root))
    best = order[_first_per_group(root[order])]
    account = pd.Series([_stable_id("ac_", o) for o in org_names[org[best]]], index=root[best])
    mapped = pd.Series(roots).map(account)
    return [v if isinstance(v, str) else None for v in mapped.tolist()]


#: Sources in order of trust when two records of one person disagree.
SOURCE_TRUST = {"generect": 0, "leedrush": 1, "file": 2}
SURVIVOR_OUTPUT = (
    "first_name",
    "last_name",
    "email_match_key",
    "phone_e164",
    "title_normalized",
    "company_name",
    "domain",
    "country",
    "linkedin_url",
)


def _filled(column: pd.Series) -> pd.Series:
    """True where a value is present (not null, not an empty string)."""
    return column.notna() & (column.astype(str) != "")


def survivors(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """One golden record per cluster, chosen field by field: the most trusted source first, then
    the most recent record (``batch_key`` sorts by time), then the most complete one. Each field
    keeps the key of the record it came from (``field_sources``, JSON).

    Vectorized: one sort, then per field the first filled row of each cluster, so the cost grows
    with the rows given, not with the number of clusters times fields."""
    data = frame.merge(clusters[["key", "lead_cluster_id"]], on="key")
    trust = data.get("source", pd.Series("file", index=data.index)).map(SOURCE_TRUST).fillna(9)
    recency = data.get("batch_key", pd.Series("", index=data.index)).fillna("")
    fields = [f for f in SURVIVOR_OUTPUT if f in data]
    filled = {f: _filled(data[f]) for f in fields}
    completeness = sum(filled.values()) if fields else 0
    data = data.assign(_trust=trust, _recency=recency, _complete=completeness)
    # Best record first within each cluster; then the first non-empty value per field wins.
    order = data.sort_values(
        ["lead_cluster_id", "_trust", "_recency", "_complete", "key"],
        ascending=[True, True, False, False, True],
        kind="stable",
    ).index
    ids = pd.Index(data["lead_cluster_id"].drop_duplicates().sort_values(), name="lead_cluster_id")
    golden = pd.DataFrame(index=ids)
    source_of: dict[str, pd.Series] = {}
    for field in fields:
        rows = order[filled[field].loc[order].to_numpy()]
        best = data.loc[rows, ["lead_cluster_id", field, "key"]].drop_duplicates("lead_cluster_id")
        best = best.set_index("lead_cluster_id")
        golden[field] = best[field].reindex(ids)
        source_of[field] = best["key"].astype(str).reindex(ids)
    golden["field_sources"] = (
        [
            json.dumps({f: v for f, v in zip(fields, values, strict=True) if isinstance(v, str)})
            for values in zip(*(source_of[f].tolist() for f in fields), strict=True)
        ]
        if fields
        else ["{}"] * len(ids)
    )
    golden = golden.reset_index()
    # Missing values as None (not NaN), as the row-wise version returned them.
    return golden.astype(object).where(golden.notna(), None)  # pyright: ignore[reportArgumentType]  # pandas-stubs: other=None is valid


ACCOUNT_FIELDS = {
    "name": "company_name",
    "company_key": "company_key",
    "domain": "domain",
    "industry": "industry",
    "headcount_bucket": "headcount_bucket",
    "country": "country",
}
ACCOUNT_COLUMNS = [
    "account_id",
    "name",
    "company_key",
    "domain",
    "industry",
    "headcount_bucket",
    "country",
    "lead_count",
    "field_sources",
]


ACCOUNT_VOTE_COLUMNS = ["account_id", "field", "value", "leads"]


def account_votes(members: pd.DataFrame) -> pd.DataFrame:
    """Per account, field and known value, how many of the account's leads have that value
    (``leads``). ``members`` has one row per lead: ``account_id`` and the account fields under
    their output names (name, company_key, domain, industry, headcount_bucket, country).

    Votes add up: the votes of two sets of leads are the sum of each set's votes, so a warehouse
    can keep them and apply only the votes of the leads a batch moved (see
    ``pipeline.incremental_resolution``)."""
    parts = []
    for field in ACCOUNT_FIELDS:
        if field not in members:
            continue
        values = members.loc[_filled(members[field]), ["account_id", field]]
        counts = values.astype({field: str}).groupby(["account_id", field]).size()
        parts.append(
            counts.reset_index(name="leads").rename(columns={field: "value"}).assign(field=field)
        )
    if not parts:
        return pd.DataFrame(columns=ACCOUNT_VOTE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[ACCOUNT_VOTE_COLUMNS]


def accounts_from_votes(votes: pd.DataFrame, lead_counts: pd.Series) -> pd.DataFrame:
    """deduplicated_accounts rows from votes (see :func:`account_votes`) and each account's number
    of people (``lead_counts``, indexed by account_id; one row per account): each field the value
    with the most votes, ties to the smallest value."""
    ids = pd.Index(sorted(lead_counts.index), name="account_id")
    accounts = pd.DataFrame(index=ids)
    votes = votes[votes["leads"] > 0]
    account, field_of = _rank(votes["account_id"]), _rank(votes["field"])
    leads = votes["leads"].to_numpy(dtype=np.int64)
    order = np.lexsort((_rank(votes["value"]), -leads, field_of, account))
    account_field = account.astype(np.int64) * (int(field_of.max(initial=0)) + 1) + field_of
    best = votes.iloc[order[_first_per_group(account_field[order])]]
    for field in ACCOUNT_FIELDS:
        chosen = best[best["field"] == field].set_index("account_id")["value"]
        accounts[field] = chosen.reindex(ids)
    accounts["lead_count"] = lead_counts.reindex(ids).astype(int)
    accounts["field_sources"] = json.dumps(
        {"*": "most frequent known value among the account's leads"}
    )
    accounts = accounts.reset_index()[ACCOUNT_COLUMNS]
    return accounts.astype(object).where(accounts.notna(), None)  # pyright: ignore[reportArgumentType]  # pandas-stubs: other=None is valid


def account_members(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """One row per lead that has an account: key, account_id, lead_cluster_id and the account
    fields under their output names (what :func:`account_votes` counts)."""
    data = clusters[["key", "lead_cluster_id", "account_id"]].merge(
        frame[["key", *[c for c in ACCOUNT_FIELDS.values() if c in frame]]].drop_duplicates("key"),
        on="key",
    )
    data = data[data["account_id"].notna()]
    return data.rename(columns={column: field for field, column in ACCOUNT_FIELDS.items()})


def build_accounts(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """deduplicated_accounts from leads and their clusters: one row per ``account_id``, each field
    the most frequent known value among the account's leads (ties to the smallest value, so the
    same leads always name an account the same way), ``lead_count`` the number of people.

    The one account builder: ``resolve`` (and so ``lead-assets dedupe``) and the
    ``deduplicated_accounts`` asset both come down to :func:`accounts_from_votes` (the asset keeps
    the votes in the warehouse). ``frame`` needs ``key`` and any of the source columns;
    ``clusters`` needs key, lead_cluster_id, account_id."""
    members = account_members(frame, clusters)
    if members.empty:
        return pd.DataFrame(columns=ACCOUNT_COLUMNS)
    lead_counts = members.groupby("account_id")["lead_cluster_id"].nunique()
    return accounts_from_votes(account_votes(members), lead_counts)
