"""The 1M-row shortcuts give the answers of the plain code they replace: cleanco's basename,
one standardizer process, the pair-by-pair candidate blocking and exact-key linking (issue 12);
and the paused collector they run under is restored."""

from __future__ import annotations

import gc
import itertools
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from cleanco import basename
from hypothesis import given, settings
from hypothesis import strategies as st

from lead_assets.core.gc_pause import paused_gc
from lead_assets.core.matching.resolve import _repeats, candidate_pairs
from lead_assets.core.matching.settings import MATCH_SETTINGS, Blocking
from lead_assets.core.normalize.companies import _TERMS, strip_legal_suffix
from lead_assets.core.standardize import standardize_large, standardize_rows
from lead_assets.settings import PROJECT_ROOT

# Words cleanco knows (in their written forms) mixed with ordinary ones, punctuation and case.
TERM_WORDS = sorted({w for _, parts in _TERMS for w in parts})
WORDS = st.one_of(
    st.sampled_from(TERM_WORDS),
    st.sampled_from(TERM_WORDS).map(str.upper),
    st.sampled_from(["Acme", "Müller", "&", "Co.", "Inc.", "L.L.C.", "GmbH,", "S.A.", "-"]),
    st.text(alphabet="abcdéxyz.,-&", min_size=1, max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(WORDS, min_size=0, max_size=6).map(" ".join))
def test_suffix_stripping_is_cleancos_answer(name: str) -> None:
    assert strip_legal_suffix(name) == basename(name)


def test_suffix_stripping_on_the_independent_generators_companies() -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    from labeled_b2b import generate

    for company in generate(3000, seed=7)["company_name"].dropna().unique():
        assert strip_legal_suffix(company) == basename(company), company


def test_parallel_standardize_equals_one_process() -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    from labeled_b2b import generate

    raw = generate(4000, seed=3).drop(columns=["entity_id"]).astype(object)
    raw = raw.where(raw.notna(), None)
    raw.insert(0, "row_id", [str(i) for i in range(len(raw))])
    one = standardize_rows(raw)
    many = standardize_large(raw, workers=2, min_rows=0)
    pd.testing.assert_frame_equal(one.frame, many.frame)
    assert one.stats.ok == many.stats.ok and one.stats.reasons == many.stats.reasons
    assert one.stats.warnings == many.stats.warnings
    for field, rate in one.stats.fill_rates.items():
        assert abs(rate - many.stats.fill_rates[field]) < 1e-9


def reference_pairs(
    first: list[str],
    last: list[str],
    domains: list[str],
    companies: list[str],
    phones: list[str],
    blocking: Blocking,
) -> set[tuple[int, int]]:
    """The blocking written pair by pair, as it was before it was vectorized."""
    pairs: set[tuple[int, int]] = set()
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(phones):
        if p:
            groups.setdefault(p, []).append(i)
    for members in groups.values():
        if 1 < len(members) <= blocking.max_phone_group:
            pairs.update(itertools.combinations(members, 2))
    blocks: dict[tuple[str, str], list[int]] = {}
    w = blocking.name_prefix
    for i in range(len(first)):
        orgs = ({f"d:{domains[i]}"} if domains[i] else set()) | (
            {f"c:{companies[i]}"} if companies[i] else set()
        )
        for org in orgs:
            for part in {last[i][:w], first[i][:w]} - {""}:
                blocks.setdefault((org, part), []).append(i)
    for members in blocks.values():
        members = sorted(members, key=lambda i: (last[i], first[i]))
        for pos, a in enumerate(members):
            for b in members[pos + 1 : pos + 1 + blocking.max_block]:
                pairs.add((min(a, b), max(a, b)))
    return pairs


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 400))
def test_vectorized_blocking_equals_pair_by_pair(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    # Few values, so blocks and phone groups are large and overflow their windows.
    pick = lambda values: [str(v) for v in rng.choice(values, n)]  # noqa: E731
    first = pick(["ann", "anna", "bo", "b", "", "carl", "an"])
    last = pick(["lee", "le", "", "smith", "smyth", "an"])
    domains = pick(["", "acme.com", "x.io"])
    companies = pick(["", "acme", "x", "acme.com"])
    phones = pick(["", "+1", "+2", "+3"])
    blocking = replace(MATCH_SETTINGS.blocking, max_block=5, max_phone_group=4)
    got = candidate_pairs(first, last, domains, companies, phones, blocking)
    assert {tuple(p) for p in got.tolist()} == reference_pairs(
        first, last, domains, companies, phones, blocking
    )
    assert len(got) == len({tuple(p) for p in got.tolist()})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["", "a@x.io", "b@x.io", "c@y.io", "info@x.io"]), max_size=40),
    st.data(),
)
def test_exact_key_repeats_equal_a_first_seen_loop(values: list[str], data: st.DataObject) -> None:
    excluded = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    seen: dict[str, int] = {}
    expected = []
    for i, value in enumerate(values):
        if not value or excluded[i]:
            continue
        if value in seen:
            expected.append((seen[value], i))
        else:
            seen[value] = i
    assert _repeats(values, exclude=np.array(excluded, dtype=bool)) == expected


def test_paused_gc_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not re-enable inside the outer one
        raise RuntimeError
    assert gc.isenabled()  # restored even when the block fails
