"""One item, one fate: an answer lost after the vendor charged (or before it did) holds only its
items, the batch goes on, and reconciliation against the sandbox's transactions decides: settled
with the vendor's amount (the answer recorded as lost, never bought twice) or released (bought
again in the next round). The batch then completes on its own."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

import lead_assets.clients.generect as generect_module
from lead_assets_tests.enrichment.conftest import lead_file


def _drop_first(monkeypatch: pytest.MonkeyPatch, path_suffix: str) -> None:
    """The sandbox serves (and charges) the first request to ``path_suffix``, then drops the
    connection before answering."""
    original = generect_module.send
    armed = {"left": 1}

    def send(http, method, url, **kwargs):  # type: ignore[no-untyped-def]
        if url.endswith(path_suffix) and method == "POST" and armed["left"]:
            armed["left"] -= 1
            kwargs["headers"] = {**kwargs["headers"], "X-Generect-Test-Behaviour": "drop"}
        return original(http, method, url, **kwargs)

    monkeypatch.setattr(generect_module, "send", send)


def _ledger(engine) -> list[dict]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("SELECT operation, state, amount, evidence, detail FROM spend_ledger")
            ).mappings()
        ]


def _items_charged(pipeline) -> Counter:  # type: ignore[no-untyped-def]
    charges = pipeline.sandbox.generect.state.sandbox.account.charges
    return Counter((c["type"], i) for c in charges for i in c["details"]["items"])


@pytest.mark.parametrize(
    ("path", "decision"),
    [("/api/v1/email/validate/", "settled"), ("/api/v1/email/find/bulk/", "released")],
)
def test_lost_answer_holds_its_items_and_reconciliation_finishes_the_batch(
    pipeline_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, decision: str
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LEAD_ASSETS_RECONCILE_GRACE_S", "0.5")
    reference = pipeline_factory()
    reference.drop(lead_file(tmp_path / "a.csv", 120, seed=31, with_email=0.5))
    reference.drain()
    p = pipeline_factory()
    _drop_first(monkeypatch, path)
    p.drop(lead_file(tmp_path / "a.csv", 120, seed=31, with_email=0.5))
    runs = p.drain()
    assert all(ok for _, _, ok in runs), runs  # the lost answer failed no run

    ledger = _ledger(p.engine)
    decided = [r for r in ledger if r["evidence"]]
    assert [r["state"] for r in decided] == [decision]
    evidence = json.loads(decided[0]["evidence"])
    if decision == "settled":  # the charge was found in the vendor's books
        assert evidence["type"] == "email_validator" and evidence["transaction_id"]
        # Settled with the vendor's own amount for that transaction, not the estimate.
        charges = p.sandbox.generect.state.sandbox.account.charges
        (charge,) = [c for c in charges if c["id"] == evidence["transaction_id"]]
        assert decided[0]["amount"] == pytest.approx(-charge["credits"]) and charge["credits"] < 0
    else:  # an orphaned bulk job was never billed: released, the leads bought in round 2
        assert evidence["matched"] is None and evidence["searched_type"] == "bulk_email"
    assert {r["state"] for r in ledger} <= {"settled", "released"}
    with p.engine.connect() as conn:
        settled = conn.execute(
            text("SELECT SUM(amount) FROM spend_ledger WHERE state = 'settled' AND unit = 'usd'")
        ).scalar_one()
        state, rounds = conn.execute(text("SELECT state, enrich_round FROM lead_batches")).one()
        exports = conn.execute(text("SELECT COUNT(*) FROM batch_exports")).scalar_one()
        lost = conn.execute(
            text("SELECT COUNT(*) FROM generect_enrichment WHERE detail LIKE '%answer lost%'")
        ).scalar_one()
        held = conn.execute(text("SELECT COUNT(*) FROM ledger_items")).scalar_one()
    assert settled == pytest.approx(p.generect_charged)  # the ledger equals the vendor's books
    assert max(_items_charged(p).values()) == 1  # nothing bought twice
    assert exports > 0 and rounds >= 1 and held == 0, state
    if decision == "settled":
        # Paid once, answer lost: not bought again, and said so for each address of that call.
        assert lost == len(charge["details"]["items"]) > 0
        assert p.generect_charged == pytest.approx(reference.generect_charged)
    else:
        assert lost == 0
        assert p.generect_charged == pytest.approx(reference.generect_charged)
