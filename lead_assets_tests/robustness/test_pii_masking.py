"""Emails and phones never leave the warehouse unmasked: the whole graph on the samples, then the
whole Dagster event log, the captured logs, quarantine reasons and warehouse error text are
searched for every input email and phone."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets.core.normalize.phones import normalize_phone
from lead_assets.core.parsing import FileRejected, parse_file
from lead_assets.core.pii import mask_email, mask_phone, mask_text
from lead_assets.resources.leedrush import LeedrushResource
from lead_assets.resources.warehouse import WarehouseResource

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
_EMAIL = re.compile(r"[^\s@,;\"'<>]+@[^\s@,;\"'<>]+\.[A-Za-z]{2,}")


def test_mask_helpers() -> None:
    assert mask_email("john.doe@acme.com") == "j***@acme.com"
    assert mask_phone("+1 (415) 555-0101") == "***01"
    masked = mask_text("lead john@acme.com, phone +1 415 555 0101, batch 2026-12-01 22:18:01")
    assert "john@" not in masked and "555 0101" not in masked and "2026-12-01 22:18:01" in masked


def test_reprs_never_show_secrets() -> None:
    wh = WarehouseResource(database_url="postgresql://user:pw-SECRET@db.internal/leads")
    lr = LeedrushResource(email="ops@acme.com", password="hunter2-SECRET")
    for shown in (repr(wh), str(wh), repr(lr), str(lr)):
        assert "SECRET" not in shown and "ops@acme.com" not in shown
    assert "db.internal" in repr(wh)


def test_no_usable_columns_never_echoes_cells(tmp_path: Path) -> None:
    path = tmp_path / "no_header.csv"
    path.write_text("ann@acme.com,+1 415 555 0101,Ann\nbob@beta.io,+1 415 555 0199,Bob\n")
    try:
        parse_file(path)
    except FileRejected as exc:
        message = str(exc)
    assert "ann@acme.com" not in message and "555" not in message
    assert "no header row" in message


def _input_pii() -> tuple[set[str], set[str]]:
    emails: set[str] = set()
    phones: set[str] = set()
    for path in SAMPLES.iterdir():
        if path.suffix not in (".csv", ".jsonl", ".gz"):
            continue
        try:
            rows = parse_file(path).rows
        except FileRejected:
            continue  # quarantined: its cells are no leads
        for row in rows:
            for value in row.values.values():
                cell = str(value)
                emails.update(m.group(0).lower() for m in _EMAIL.finditer(cell))
                digits = re.sub(r"\D", "", cell)
                if "@" not in cell and 10 <= len(digits) <= 15 and not re.search(r"[A-Za-z]", cell):
                    phones.add(cell.strip())
                    phones.add("+" + digits)
                    e164 = normalize_phone(cell)[0]
                    if e164:
                        phones.add(e164)  # the normalized form the warehouse holds
    return emails, phones


@pytest.mark.parametrize("warehouse_url", ["sqlite"], indirect=True)
def test_whole_graph_on_the_samples_leaks_no_email_or_phone(
    pipeline_factory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    from dagster._serdes import serialize_value

    emails, phones = _input_pii()
    assert len(emails) > 100 and len(phones) > 50
    p = pipeline_factory()
    caplog.set_level(logging.DEBUG)
    for sample in sorted(SAMPLES.iterdir()):
        if sample.suffix in (".csv", ".jsonl", ".gz"):
            shutil.copyfile(sample, tmp_path / sample.name)
            p.drop(tmp_path / sample.name)
    runs = p.drain()
    assert runs and all(ok for _, _, ok in runs)
    texts = [caplog.text]
    for record in p.instance.get_runs():
        texts.extend(serialize_value(e) for e in p.instance.all_logs(record.run_id))
    for reason in (p.landing / "quarantine").glob("*.reason.txt"):
        texts.append(reason.read_text())
    with p.engine.connect() as conn:
        texts += [str(r) for r in conn.execute(text("SELECT reason FROM seen_files")).all()]
        texts += [str(r) for r in conn.execute(text("SELECT detail FROM lead_batches")).all()]
    haystack = "\n".join(texts).lower()
    assert len(haystack) > 10_000  # the event log was really read
    leaked_emails = sorted(e for e in emails if e in haystack)
    leaked_phones = sorted(ph for ph in phones if ph.lower() in haystack)
    assert leaked_emails == [] and leaked_phones == []
