"""Standardization of a realistic batch: outcomes, reasons, fill rates."""

from __future__ import annotations

import pandas as pd

from lead_assets.core.standardize import standardize_rows


def test_outcomes_and_reasons() -> None:
    frame = pd.DataFrame(
        [
            {
                "row_id": "1",
                "first_name": "ADA",
                "last_name": "lovelace",
                "email": "Ada+x@Analytical.io",
                "phone": "020 7946 0958",
                "country": "UK",
                "company_name": "Analytical Engines Ltd",
                "headcount": "10001+",
            },
            {
                "row_id": "2",
                "full_name": "Hopper, Grace",
                "company_name": "US Navy",
                "location": "Arlington, VA",
            },
            {"row_id": "3", "email": "nope", "phone": "12"},
            {
                "row_id": "4",
                "email": "info@acme.com",
                "parse_error": "line 5: expected 4 fields, found 6",
            },
            {"row_id": "5", "first_name": "Solo"},
        ]
    )
    result = standardize_rows(frame)
    out = result.frame.set_index("row_id")
    assert out.loc["1", "status"] == "ok"
    assert (
        out.loc["1", "email"] == "ada+x@analytical.io"
        and out.loc["1", "email_match_key"] == "ada@analytical.io"
    )
    assert out.loc["1", "phone_e164"] == "+442079460958"  # region from the country column
    assert out.loc["1", "domain"] == "analytical.io"  # from the work email when there is no website
    assert out.loc["1", "headcount_bucket"] == "10 000+"
    assert (
        out.loc["2", "status"] == "ok"
        and out.loc["2", "first_name"] == "Grace"
        and out.loc["2", "region"] == "Virginia"
    )
    assert out.loc["3", "status"] == "rejected"
    assert out.loc["3", "reasons"] == "no_contact_identity;invalid_email;invalid_phone"
    assert out.loc["4", "reasons"].startswith("malformed_row")
    assert out.loc["5", "status"] == "rejected"
    assert result.stats.reasons == {"no_contact_identity": 2, "malformed_row": 1}
    assert result.stats.warnings == {"invalid_email": 1, "invalid_phone": 1}
    assert result.stats.fill_rates["email"] == 0.5  # of the 2 ok rows


def test_json_numbers_become_text() -> None:
    frame = pd.DataFrame(
        [{"row_id": "1", "email": "a@b.com", "phone": 4155552671.0, "headcount": 250}]
    )
    out = standardize_rows(frame).frame
    assert out.loc[0, "phone_e164"] == "+14155552671"
    assert out.loc[0, "headcount_bucket"] == "201-500"
