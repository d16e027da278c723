"""The real ``dagster-daemon``: a run worker SIGKILLed during paid Generect enrichment, at 10 %
vendor faults, and its batch still reaches an export with no human step (issue #10)."""

from __future__ import annotations

from pathlib import Path

from lead_assets.sandbox import chaos


def test_a_killed_run_worker_s_batch_completes_under_the_daemon(tmp_path: Path) -> None:
    out = chaos.daemon_kill(tmp_path, rows=150, fault_rate=0.1, timeout_s=300, log=print)
    assert out.killed_pid, "the kill point was never reached"
    assert out.exported, f"not every batch was exported: {out.batches}"
    # The ledger equals the sandbox's books, nothing was bought twice, every row has one outcome.
    assert out.problems == []
    assert out.books.generect_usd > 0
