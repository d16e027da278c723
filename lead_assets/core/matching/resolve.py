"""Entity resolution over standardized leads: exact keys first, fuzzy names inside blocks, a
union-find that refuses merges which would chain unrelated records, survivorship per cluster.

Precision first: two clusters are never merged when each already holds a different work email, or
(for fuzzy links) when they belong to different companies. Cluster ids derive from the smallest
member key, so a re-run over the same rows gives the same ids.

Input columns: ``key`` (unique across the warehouse, e.g. ``batch|row``), first_name, last_name,
email_match_key, phone_e164, linkedin_url, vendor_lead_id, company_key, domain, company_name,
plus any fields used for survivorship. Missing columns are treated as empty.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

import pandas as pd
from rapidfuzz.distance import JaroWinkler

from lead_assets.core.matching.nicknames import canonical_first
from lead_assets.core.normalize.companies import ascii_fold

NAME_THRESHOLD = 0.92
MAX_BLOCK = 60  # a larger block is compared in a sorted window, so work stays near-linear
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
    """Union-find whose roots remember each cluster's emails and organizations."""

    def __init__(self, emails: list[str | None], orgs: list[set[str]]) -> None:
        n = len(emails)
        self.parent = list(range(n))
        self.emails: list[set[str]] = [{e} if e else set() for e in emails]
        self.orgs: list[set[str]] = [set(o) for o in orgs]
        self.rule: list[tuple[float, str]] = [(1.0, "single")] * n

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
        # Guards against chaining: two different mailboxes are two different people, and a fuzzy
        # name match across two companies is a namesake, not a duplicate.
        if self.emails[ra] and self.emails[rb] and not self.emails[ra] & self.emails[rb]:
            return False
        if (
            require_same_org
            and self.orgs[ra]
            and self.orgs[rb]
            and not self.orgs[ra] & self.orgs[rb]
        ):
            return False
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.emails[ra] |= self.emails[rb]
        self.orgs[ra] |= self.orgs[rb]
        for i in (a, b):
            if self.rule[i][1] == "single" or confidence < self.rule[i][0]:  # keep the weakest link
                self.rule[i] = (confidence, rule)
        return True


def _text(frame: pd.DataFrame, name: str) -> list[str]:
    if name not in frame:
        return [""] * len(frame)
    return [
        "" if v is None or (isinstance(v, float) and v != v) else str(v)
        for v in frame[name].tolist()
    ]


def _stable_id(prefix: str, text: str) -> str:
    return prefix + hashlib.sha1(text.encode()).hexdigest()[:12]


def resolve(frame: pd.DataFrame) -> Resolution:
    """Cluster every row of ``frame`` (see the module docstring for the columns)."""
    n = len(frame)
    keys = _text(frame, "key")
    first = [canonical_first(ascii_fold(v)) for v in _text(frame, "first_name")]
    last = [ascii_fold(v).lower().replace(" ", "") for v in _text(frame, "last_name")]
    emails = [v or None for v in _text(frame, "email_match_key")]
    domains = _text(frame, "domain")
    company_keys = _text(frame, "company_key")
    # An organization is known by its domain and by its company key; either one is enough to
    # put two records in the same block, and sharing either one counts as the same company.
    org_sets = [
        ({f"d:{d}"} if d else set()) | ({f"c:{c}"} if c else set())
        for d, c in zip(domains, company_keys, strict=True)
    ]
    orgs = [d or c or None for d, c in zip(domains, company_keys, strict=True)]
    role = [v in ("True", "true", "1") for v in _text(frame, "email_is_role")]
    # A role mailbox identifies nobody, so it neither links nor separates people.
    uf = _Clusters([None if r else e for e, r in zip(emails, role, strict=True)], org_sets)

    # 1. Exact keys: the same mailbox, LinkedIn profile or vendor id is the same person.
    for column, confidence, rule in (
        ("email_match_key", 1.0, "email"),
        ("linkedin_url", 1.0, "linkedin"),
        ("vendor_lead_id", 1.0, "vendor_id"),
    ):
        seen: dict[str, int] = {}
        for i, value in enumerate(_text(frame, column)):
            if not value or (column == "email_match_key" and role[i]):
                continue  # info@ or sales@ is shared by many people: not an identity
            if value in seen:
                uf.union(seen[value], i, confidence, rule, require_same_org=False)
            else:
                seen[value] = i
    # A shared phone is the same person only when the surname agrees (switchboards are shared).
    mobile = [v == "mobile" for v in _text(frame, "phone_type")]
    by_phone: dict[str, list[int]] = defaultdict(list)
    for i, phone in enumerate(_text(frame, "phone_e164")):
        if phone:
            by_phone[phone].append(i)
    for members in by_phone.values():
        if len(members) > 50:
            continue  # a switchboard or a placeholder number: it identifies nobody
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if last[a] and last[a] == last[b]:
                    uf.union(a, b, 0.97, "phone+surname", require_same_org=False)
                elif last[a] and last[b] and JaroWinkler.similarity(last[a], last[b]) >= 0.9:
                    uf.union(a, b, 0.93, "phone+similar_surname", require_same_org=False)
                elif first[a] and first[a] == last[b] and last[a] == first[b]:
                    uf.union(a, b, 0.93, "phone+swapped_names", require_same_org=False)
                elif mobile[a] and mobile[b] and first[a] and first[a] == first[b]:
                    # The same mobile number and first name under another surname: a name change
                    # or a surname typo beyond the fuzzy threshold. Only for mobiles, which belong
                    # to one person; an office line may be shared by two people of one name.
                    uf.union(a, b, 0.9, "mobile+first_name", require_same_org=True)

    # 2. Fuzzy names inside blocks of one organization and a surname prefix.
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in range(n):
        # Blocked by organization and by the first letters of either name part: a typo in one
        # part still shares the other's block, and swapped first/last names meet across keys.
        for org in org_sets[i]:
            for part in {last[i][:2], first[i][:2]} - {""}:
                blocks[(org, part)].append(i)
    links: list[tuple[float, int, int]] = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda i: (last[i], first[i]))
        for pos, a in enumerate(members):
            for b in members[
                pos + 1 : pos + 1 + (MAX_BLOCK if len(members) > MAX_BLOCK else len(members))
            ]:
                score = _name_score(first[a], last[a], first[b], last[b])
                if score >= NAME_THRESHOLD:
                    links.append((score, a, b))
    for score, a, b in sorted(links, reverse=True):
        uf.union(a, b, round(score, 3), "fuzzy_name+org", require_same_org=True)

    # 3. Cluster ids, survivors and accounts.
    roots = [uf.find(i) for i in range(n)]
    members_of: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(roots):
        members_of[r].append(i)
    cluster_id = {r: _stable_id("lc_", min(keys[i] for i in m)) for r, m in members_of.items()}
    completeness = (
        [
            sum(bool(v) for v in vals)
            for vals in zip(*(_text(frame, f) for f in SURVIVOR_FIELDS), strict=True)
        ]
        if n
        else []
    )
    survivor = {r: max(m, key=lambda i: (completeness[i], keys[i])) for r, m in members_of.items()}
    org_of_cluster = {
        r: Counter(orgs[i] for i in m if orgs[i]).most_common(1) for r, m in members_of.items()
    }
    account_of = {
        r: (_stable_id("ac_", oc[0][0]) if oc else None) for r, oc in org_of_cluster.items()
    }
    clusters = pd.DataFrame(
        {
            "key": keys,
            "lead_cluster_id": [cluster_id[r] for r in roots],
            "account_id": [account_of[r] for r in roots],
            "link_confidence": [uf.rule[i][0] for i in range(n)],
            "link_rule": [uf.rule[i][1] for i in range(n)],
            "is_survivor": [survivor[roots[i]] == i for i in range(n)],
        }
    )
    return Resolution(clusters, _accounts(frame, clusters, orgs, domains, company_keys))


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


def survivors(frame: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """One golden record per cluster, chosen field by field: the most trusted source first, then
    the most recent record (``batch_key`` sorts by time), then the most complete one. Each field
    keeps the key of the record it came from (``field_sources``, JSON)."""
    import json

    data = frame.merge(clusters[["key", "lead_cluster_id"]], on="key")
    trust = data.get("source", pd.Series("file", index=data.index)).map(SOURCE_TRUST).fillna(9)
    recency = data.get("batch_key", pd.Series("", index=data.index)).fillna("")
    completeness = sum(
        data[f].notna() & (data[f].astype(str) != "") for f in SURVIVOR_OUTPUT if f in data
    )
    data = data.assign(_trust=trust, _recency=recency, _complete=completeness)
    # Best record first within each cluster; then the first non-empty value per field wins.
    data = data.sort_values(
        ["lead_cluster_id", "_trust", "_recency", "_complete"], ascending=[True, True, False, False]
    )
    rows = []
    for cluster_id, group in data.groupby("lead_cluster_id", sort=False):
        record: dict[str, object] = {"lead_cluster_id": cluster_id}
        sources: dict[str, str] = {}
        for field in SURVIVOR_OUTPUT:
            if field not in group:
                continue
            filled = group[group[field].notna() & (group[field].astype(str) != "")]
            if len(filled):
                record[field] = filled[field].iloc[0]
                sources[field] = str(filled["key"].iloc[0])
        record["field_sources"] = json.dumps(sources)
        rows.append(record)
    return pd.DataFrame(rows)


def _name_score(f1: str, l1: str, f2: str, l2: str) -> float:
    if not (l1 and l2):
        return 0.0
    straight = min(
        JaroWinkler.similarity(f1, f2) if f1 and f2 else 0.0, JaroWinkler.similarity(l1, l2)
    )
    swapped = min(
        JaroWinkler.similarity(f1, l2) if f1 else 0.0, JaroWinkler.similarity(l1, f2) if f2 else 0.0
    )
    return max(straight, swapped)


def _accounts(
    frame: pd.DataFrame,
    clusters: pd.DataFrame,
    orgs: list,
    domains: list[str],
    company_keys: list[str],
) -> pd.DataFrame:
    rows = []
    names = _text(frame, "company_name")
    industries, headcounts, countries = (
        _text(frame, "industry"),
        _text(frame, "headcount_bucket"),
        _text(frame, "country"),
    )
    grouped: dict[str, list[int]] = defaultdict(list)
    for i, account in enumerate(clusters["account_id"].tolist()):
        if account:
            grouped[account].append(i)
    for account, members in grouped.items():

        def top(values: list[str], members: list[int] = members) -> str | None:
            found = Counter(values[i] for i in members if values[i]).most_common(1)
            return found[0][0] if found else None

        rows.append(
            {
                "account_id": account,
                "name": top(names),
                "company_key": top(company_keys),
                "domain": top(domains),
                "industry": top(industries),
                "headcount_bucket": top(headcounts),
                "country": top(countries),
                "lead_count": int(clusters.loc[members, "lead_cluster_id"].nunique()),
                "field_sources": '{"name": "most frequent across members", "domain": "most frequent across members"}',
            }
        )
    columns = [
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
    return pd.DataFrame(rows, columns=columns)
