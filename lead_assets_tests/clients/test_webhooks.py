"""Webhook signatures of both vendors (``lead_assets/clients/webhooks.py``), each checked against
an HMAC computed here, so a verifier and its signer cannot agree on a wrong scheme."""

from __future__ import annotations

import base64
import hashlib
import hmac

from lead_assets.clients import generect, leedrush
from lead_assets.clients.webhooks import (
    generect_signature,
    leedrush_signature,
    verify_generect_signature,
    verify_leedrush_signature,
)

BODY = b'{"event":"email.find.bulk.completed"}'


def test_generect_signature_is_base64_hmac_sha256() -> None:
    expected = base64.b64encode(hmac.new(b"sec", BODY, hashlib.sha256).digest()).decode()
    g = generect_signature("sec", BODY)
    assert g == expected
    for verify in (verify_generect_signature, generect.verify_webhook):
        assert verify("sec", BODY, g)
        assert not verify("sec", BODY + b" ", g)
        assert not verify("sec", BODY, hmac.new(b"sec", BODY, hashlib.sha256).hexdigest())  # hex
    assert not verify_generect_signature("", BODY, g)
    assert not verify_generect_signature("sec", BODY, None)


def test_leedrush_signature_is_hex_hmac_sha256() -> None:
    expected = hmac.new(b"sec", BODY, hashlib.sha256).hexdigest()
    h = leedrush_signature("sec", BODY)
    assert h == expected and len(h) == 64
    for verify in (verify_leedrush_signature, leedrush.verify_webhook):
        assert verify("sec", BODY, h.upper())
        assert verify("sec", BODY, "sha256=" + h)
        assert not verify("sec", BODY + b" ", h)
        assert not verify("sec", BODY, generect_signature("sec", BODY))  # base64 is Generect's
