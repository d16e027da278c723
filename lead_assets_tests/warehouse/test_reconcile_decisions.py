"""The pure reconciliation decisions (lead_assets.core.reconcile), table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lead_assets.core.reconcile import (
    Charge,
    Entry,
    ListedBatch,
    decide_generect,
    decide_leedrush,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)


def entry(
    eid: str,
    op: str = "email_validate",
    state: str = "unknown",
    estimate: float = 0.25,
    amount: float = 0.0,
    at: float = 0.0,
    took: float = 1.0,
    live: bool = False,
    key: str = "k",
) -> Entry:
    return Entry(
        eid,
        "generect",
        op,
        key,
        state,
        estimate,
        amount,
        T0 + timedelta(seconds=at),
        T0 + timedelta(seconds=at + took),
        live,
    )


def charge(
    cid: str, kind: str = "email_validator", amount: float = 0.25, at: float = 0.5
) -> Charge:
    return Charge(cid, kind, amount, T0 + timedelta(seconds=at))


def decide(entries, charges, *, after: float = 120.0):  # type: ignore[no-untyped-def]
    out = decide_generect(entries, charges, now=T0 + timedelta(seconds=after), grace=GRACE)
    return {d.entry_id: (d.action, d.amount) for d in out}


@pytest.mark.parametrize(
    ("entries", "charges", "after", "expected"),
    [
        # a charge of the right type, amount and time settles the unknown call with its amount
        ([entry("u")], [charge("c")], 120, {"u": ("settle", 0.25)}),
        # nothing in the books after the grace window: released (the item may be bought again)
        ([entry("u")], [], 120, {"u": ("release", 0.0)}),
        # nothing yet, inside the grace window: wait
        ([entry("u")], [], 10, {"u": ("wait", 0.0)}),
        # wrong type, wrong amount or outside the window: no match
        ([entry("u")], [charge("c", kind="enrich_company")], 120, {"u": ("release", 0.0)}),
        ([entry("u")], [charge("c", amount=0.2)], 120, {"u": ("release", 0.0)}),
        ([entry("u", at=40)], [charge("c", at=30)], 120, {"u": ("release", 0.0)}),
        # a timed-out call the vendor served (and charged) after the client gave up
        ([entry("u")], [charge("c", at=30)], 120, {"u": ("settle", 0.25)}),
        # a settled call claims its own charge first: one charge never explains two calls
        (
            [entry("s", state="settled", amount=0.25), entry("u", at=0.1)],
            [charge("c")],
            120,
            {"u": ("release", 0.0)},
        ),
        (
            [entry("s", state="settled", amount=0.25), entry("u", at=0.1)],
            [charge("c1"), charge("c2", at=0.6)],
            120,
            {"u": ("settle", 0.25)},
        ),
        # a run that died while its call was reserved is decided like an unknown one
        ([entry("r", state="reserved")], [charge("c")], 120, {"r": ("settle", 0.25)}),
        # a live call of the same kind in flight: wait rather than steal its charge
        (
            [entry("u"), entry("l", state="reserved", live=True, at=0.2)],
            [charge("c")],
            120,
            {"u": ("wait", 0.0)},
        ),
        # bulk jobs are billed later and per item found: at most the estimate, any time after
        (
            [entry("b", op="email_find_bulk", estimate=1.0)],
            [charge("c", kind="bulk_email", amount=0.4, at=50)],
            120,
            {"b": ("settle", 0.4)},
        ),
    ],
)
def test_generect_decisions(entries, charges, after, expected) -> None:  # type: ignore[no-untyped-def]
    assert decide(entries, charges, after=after) == expected


def test_each_charge_settles_at_most_one_of_two_identical_unknown_calls() -> None:
    got = decide([entry("u1"), entry("u2", at=0.2)], [charge("c")])
    assert sorted(a for a, _ in got.values()) == ["release", "settle"]


def test_the_released_twin_of_a_settled_call_keeps_its_items() -> None:
    """Two identical open calls, one charge that fits both: the money follows the books, and the
    one released is marked so its items are not bought again (either may be the one billed)."""
    out = decide_generect(
        [entry("u1"), entry("u2", at=0.2)], [charge("c")], now=T0 + GRACE * 2, grace=GRACE
    )
    by_id = {d.entry_id: d for d in out}
    assert by_id["u1"].action == "settle"
    assert by_id["u2"].action == "release" and by_id["u2"].evidence["items"] == "kept"
    # A release with no twin frees its items as before.
    (alone,) = decide_generect([entry("u")], [], now=T0 + GRACE * 2, grace=GRACE)
    assert alone.action == "release" and "items" not in alone.evidence


def test_a_settled_call_takes_the_charge_inside_its_own_interval() -> None:
    """Found by the 2,000-lead chaos run: a settled call took, by first fit, the earlier charge
    of a killed call, leaving its own charge to another killed call that was never billed; the
    one billed was released and bought again."""
    killed_unbilled = entry("o1", state="reserved", at=0.0, took=0.2)
    killed_billed = entry("o2", state="reserved", at=0.12, took=0.2)
    settled = entry("s", state="settled", amount=0.25, at=0.29, took=0.01)
    charges = [charge("c_o2", at=0.14), charge("c_s", at=0.297)]
    got = decide_generect(
        [killed_unbilled, killed_billed, settled], charges, now=T0 + GRACE * 2, grace=GRACE
    )
    by_id = {d.entry_id: d for d in got}
    # s claimed its own charge, so exactly one killed call is settled with c_o2; which one the
    # books cannot say, so the other keeps its items: no address is bought twice either way.
    settled_ids = [d.entry_id for d in got if d.action == "settle"]
    assert len(settled_ids) == 1
    assert next(d for d in got if d.action == "settle").evidence["transaction_id"] == "c_o2"
    released = next(d for d in got if d.action == "release")
    assert released.evidence["items"] == "kept"
    assert set(by_id) == {"o1", "o2"}


def test_calls_of_different_sizes_are_told_apart_by_their_amounts() -> None:
    """A run's concurrent validation calls differ in size (``lanes_of_distinct_sizes``), so a
    killed run's open calls are no twins: the charge settles the call of its own amount and the
    other is released with its items freed, to be bought again (the clean run's total)."""
    billed = entry("o50", state="reserved", estimate=50 * 0.005, took=0.2)
    unbilled = entry("o49", state="reserved", estimate=49 * 0.005, at=0.1, took=0.2)
    got = decide_generect(
        [billed, unbilled], [charge("c", amount=0.25, at=0.15)], now=T0 + GRACE * 2, grace=GRACE
    )
    by_id = {d.entry_id: d for d in got}
    assert by_id["o50"].action == "settle" and by_id["o50"].evidence["transaction_id"] == "c"
    assert by_id["o49"].action == "release" and "items" not in by_id["o49"].evidence


def test_settle_evidence_names_the_transaction() -> None:
    (decision,) = decide_generect([entry("u")], [charge("c")], now=T0 + GRACE * 2, grace=GRACE)
    assert (
        decision.evidence["transaction_id"] == "c"
        and decision.evidence["type"] == "email_validator"
    )


def lee(eid: str, state: str = "unknown", live: bool = False, at: float = 0.0) -> Entry:
    return Entry(
        eid,
        "leedrush",
        "process",
        "leedrush:process:b1",
        state,
        100.0,
        100.0 if state == "settled" else 0.0,
        T0 + timedelta(seconds=at),
        T0 + timedelta(seconds=at + 1),
        live,
    )


NAME = "lead_assets-b1.csv"


@pytest.mark.parametrize(
    ("entries", "listed", "after", "expected"),
    [
        ([lee("u")], [ListedBatch("x", NAME, 100, "queued")], 120, {"u": ("settle", 100.0)}),
        ([lee("u")], [ListedBatch("x", "other.csv", 100, "queued")], 120, {"u": ("release", 0.0)}),
        ([lee("u")], [], 10, {"u": ("wait", 0.0)}),
        # the batch under that name is the settled submission's: the lost one made none
        (
            [lee("s", "settled"), lee("u", at=5)],
            [ListedBatch("x", NAME, 100, "done")],
            120,
            {"u": ("release", 0.0)},
        ),
        (
            [lee("s", "settled"), lee("u", at=5)],
            [ListedBatch("x", NAME, 100, "done"), ListedBatch("y", NAME, 90, "queued", "z")],
            120,
            {"u": ("settle", 90.0)},
        ),
        (
            [lee("u"), lee("l", "reserved", live=True)],
            [ListedBatch("x", NAME, 100, "queued")],
            120,
            {"u": ("wait", 0.0)},
        ),
    ],
)
def test_leedrush_decisions(entries, listed, after, expected) -> None:  # type: ignore[no-untyped-def]
    out = decide_leedrush(
        entries, listed, name=NAME, now=T0 + timedelta(seconds=after), grace=GRACE
    )
    assert {d.entry_id: (d.action, d.amount) for d in out} == expected


def test_a_transaction_matched_by_an_earlier_pass_is_not_matched_again() -> None:
    out = decide_generect(
        [entry("u")], [charge("c")], now=T0 + GRACE * 2, grace=GRACE, claimed={"c"}
    )
    assert [(d.entry_id, d.action) for d in out] == [("u", "release")]
