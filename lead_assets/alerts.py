"""Alerts to a Slack-compatible incoming webhook (``LEAD_ASSETS_ALERT_WEBHOOK_URL``).

Dagster-free: the alert sensors build an :class:`Alert` and call :func:`send_alert`. With no URL
configured an alert is only logged, so a laptop never needs Slack. The payload is Slack's
incoming-webhook shape (``{"text": ...}``) plus a ``lead_assets`` object with the same facts as
fields, for receivers that route on them. Alerts carry counts, batch keys, reasons and run
links; anything that looks like an email address or a phone number is masked before sending,
because a reason sentence could one day quote a cell.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import asdict, dataclass

import httpx

ALERT_URL_ENV = "LEAD_ASSETS_ALERT_WEBHOOK_URL"
UI_URL_ENV = "LEAD_ASSETS_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ().-]{7,}\d")

log = logging.getLogger(__name__)


def scrub(text: str) -> str:
    """Mask emails and phone-like digit runs (no PII leaves in an alert)."""
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


def run_url(run_id: str | None) -> str | None:
    """Link to the run in the Dagster UI (``LEAD_ASSETS_UI_URL``, default the local UI)."""
    if not run_id:
        return None
    base = (os.environ.get(UI_URL_ENV) or DEFAULT_UI_URL).rstrip("/")
    return f"{base}/runs/{run_id}"


@dataclass(frozen=True)
class Alert:
    """One alert: what kind, which batch, why, and where to look."""

    kind: str  # run_failure | check_failure | credits_low | credits_exhausted | stale_batch | ...
    reason: str
    batch_key: str | None = None
    run_id: str | None = None
    job: str | None = None

    def text(self) -> str:
        """The Slack message line."""
        parts = [f":rotating_light: lead_assets {self.kind.replace('_', ' ')}"]
        if self.batch_key:
            parts.append(f"batch {self.batch_key}")
        if self.job:
            parts.append(f"job {self.job}")
        line = " | ".join(parts) + f": {scrub(self.reason)}"
        link = run_url(self.run_id)
        return f"{line} <{link}|run>" if link else line

    def payload(self) -> dict:
        """Slack incoming-webhook JSON with the facts repeated as fields."""
        facts = {k: v for k, v in asdict(self).items() if v is not None}
        facts["reason"] = scrub(self.reason)
        if self.run_id:
            facts["run_url"] = run_url(self.run_id)
        return {"text": self.text(), "lead_assets": facts}


def send_alert(
    alert: Alert, *, logger: logging.Logger | None = None, timeout_s: float = 5.0
) -> bool:
    """Log the alert and POST it when a webhook URL is configured; True when delivered.

    A failed delivery is logged and swallowed: the alert sensor must not fail (its cursor would
    not advance and every later tick would repeat the alerts), and the run itself already shows
    red in the UI.
    """
    logger = logger or log
    logger.warning(alert.text())
    url = os.environ.get(ALERT_URL_ENV)
    if not url:
        return False
    try:
        response = httpx.post(url, json=alert.payload(), timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        # The URL embeds Slack's secret token: name only the failure, never the URL.
        logger.error(f"alert webhook delivery failed ({type(exc).__name__})")
        return False
    return True
