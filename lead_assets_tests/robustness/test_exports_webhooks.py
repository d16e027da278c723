"""Formula neutralization for every text dtype (asset CSV and ``lead-assets dedupe``), and webhook
verifiers that refuse an empty secret and never raise on a malformed header."""

from __future__ import annotations

import csv
import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest

from lead_assets.clients import leedrush
from lead_assets.clients.webhooks import (
    generect_signature,
    leedrush_signature,
    verify_generect_signature,
    verify_leedrush_signature,
)
from lead_assets.core.exports import write_batch_exports
from lead_assets_tests.cli.test_cli import cli

FORMULAS = ['=HYPERLINK("http://evil")', "+1 415 555 0101", "-2+3", "@SUM(A1)", "plain"]


def _frame(dtype: str) -> pd.DataFrame:
    if dtype == "str":  # pandas' future default text dtype
        with pd.option_context("future.infer_string", True):
            frame = pd.DataFrame({"company_name": FORMULAS})
        assert str(frame["company_name"].dtype) == "str"
        return frame
    return pd.DataFrame({"company_name": pd.Series(FORMULAS, dtype=dtype)})


@pytest.mark.parametrize("dtype", ["object", "string", "str"])
def test_asset_csv_neutralizes_every_text_dtype(tmp_path: Path, dtype: str) -> None:
    frame = _frame(dtype)
    frame["score"] = range(len(frame))
    paths = write_batch_exports(frame, tmp_path, "b1")
    with paths["csv"].open(newline="") as fh:
        cells = [row["company_name"] for row in csv.DictReader(fh)]
    assert cells == ["'" + v for v in FORMULAS[:4]] + ["plain"]
    # Parquet keeps the raw values.
    assert pd.read_parquet(paths["parquet"])["company_name"].tolist() == FORMULAS


def test_dedupe_output_is_neutralized(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "email,first_name,last_name,company,=cmd\n"
        'ann@acme.com,Ann,Lee,=HYPERLINK("x"),@A1\n'
        "bob@beta.io,Bob,Ray,+Beta,-1\n"
    )
    out = tmp_path / "out.csv"
    result = cli("dedupe", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:5] == ["email", "first_name", "last_name", "company", "'=cmd"]
    assert rows[1][3:5] == ['\'=HYPERLINK("x")', "'@A1"] and rows[2][3:5] == ["'+Beta", "'-1"]


BODY = b'{"event": "batch.completed"}'


@pytest.mark.parametrize(
    "verify,sign",
    [
        (verify_generect_signature, generect_signature),
        (verify_leedrush_signature, leedrush_signature),
        (leedrush.verify_webhook, leedrush_signature),
    ],
)
def test_verifiers_refuse_empty_secrets_and_never_raise(verify, sign) -> None:  # type: ignore[no-untyped-def]
    good = sign("s3cret", BODY)
    assert verify("s3cret", BODY, good)
    # An empty secret would let anyone sign: refused, even with the matching signature.
    assert not verify("", BODY, sign("", BODY))
    assert not verify(b"", BODY, sign(b"", BODY))
    for header in (
        "",
        "   ",
        None,
        "sha256=",
        "é" * 64,
        "\udcff" * 10,
        "🙂",
        "zz" * 32,
        good + "é",
    ):
        assert verify("s3cret", BODY, header) is False


def test_one_leedrush_verifier() -> None:
    expected = hmac.new(b"k", BODY, hashlib.sha256).hexdigest()
    assert leedrush.verify_webhook("k", BODY, expected.upper())  # same rules as the canonical one
    assert leedrush.verify_webhook("k", BODY, "sha256=" + expected)
