"""Stateless pieces of the Leedrush sandbox: error bodies, phone formatting, the deterministic
result of one lead row, and the CSV rendering of results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from lead_assets.sandbox.world import h

Json = dict[str, Any]

_EMAIL_STATUSES = ("verified_deliverable", "catch_all_risky", "invalid", "unknown")
_PHONE_STATUSES = ("mobile_active", "landline", "voip", "disconnected")
_SIGNALS = ("Series B", "Hiring", "New funding", "Expanding")
_TECHNOLOGIES = ("AWS", "Salesforce", "HubSpot", "Snowflake", "Stripe")


def detail(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's error shape, ``{"detail": ...}``."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or {})


def invalid(loc: list[str], msg: str, kind: str = "value_error") -> JSONResponse:
    """A FastAPI-style 422 for one bad field."""
    return detail(422, [{"loc": loc, "msg": msg, "type": kind}])


def format_phone(raw: str) -> str:
    """Vendor-style ``+1-555-0199`` formatting: NANP numbers grouped, others ``+<digits>``."""
    digits = "".join(c for c in str(raw) if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return f"+1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if len(digits) == 7:
        return f"+1-{digits[:3]}-{digits[3:]}"
    return f"+{digits}" if len(digits) >= 8 else ""


def now_iso() -> str:
    """UTC now as the API writes it (milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _qualification(email: str, key: str) -> str:
    # 70 % qualified, 20 % disqualified, 10 % failed; no usable email always fails.
    bucket = h("leedrush", key) % 100
    if not email or "@" not in email:
        return "FAILED"
    if bucket < 70:
        return "QUALIFIED"
    if bucket < 90:
        return "DISQUALIFIED"
    return "FAILED"


def _account(row: Json, email: str) -> Json:
    domain = email.split("@")[-1] if "@" in email else (row.get("domain") or "")
    return {
        "name": row.get("company") or row.get("company_name") or "",
        "domain": domain,
        "signals": [s for i, s in enumerate(_SIGNALS) if h("sig", domain, i) % 3 == 0],
        "technologies": [t for i, t in enumerate(_TECHNOLOGIES) if h("tech", domain, i) % 3 == 0],
    }


def result_for(row: Json, status_variety: bool) -> Json:
    """The (deterministic, hashed) enrichment result of one uploaded row; ``status_variety``
    spreads the email and phone statuses over every value the API documents."""
    email = (row.get("email") or "").strip().lower()
    key = email or f"{row.get('first_name')}|{row.get('last_name')}|{row.get('company')}"
    email_status = _EMAIL_STATUSES[h("es", key) % 4] if status_variety else _EMAIL_STATUSES[0]
    phone = format_phone(row.get("phone") or row.get("phone_number") or "")
    phone_status = ""
    if phone:
        phone_status = _PHONE_STATUSES[h("ps", key) % 4] if status_variety else _PHONE_STATUSES[0]
    name = (
        row.get("full_name") or f"{row.get('first_name', '')} {row.get('last_name', '')}"
    ).strip()
    return {
        "status": _qualification(email, key),
        "score": round(50 + (h("score", key) % 5000) / 100, 1),
        "account": _account(row, email),
        "contact": {
            "full_name": name,
            "title_normalized": row.get("title") or "",
            "email": email,
            "email_status": email_status,
            "phone": phone,
            "phone_status": phone_status,
        },
        "dedup_confidence": round(0.8 + (h("dc", key) % 20) / 100, 2),
    }


def csv_row(r: Json) -> list[object]:
    """One result in ``RESULT_COLUMNS`` order (lists joined with ``;``)."""
    return [
        r["status"],
        r["score"],
        r["account"]["name"],
        r["account"]["domain"],
        ";".join(r["account"]["signals"]),
        ";".join(r["account"]["technologies"]),
        r["contact"]["full_name"],
        r["contact"]["title_normalized"],
        r["contact"]["email"],
        r["contact"]["email_status"],
        r["contact"]["phone"],
        r["contact"]["phone_status"],
        r["dedup_confidence"],
    ]
