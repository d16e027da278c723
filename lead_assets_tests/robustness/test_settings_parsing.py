"""Every setting is read in one place (lead_assets/settings.py) with one parser: blank means the
default, a value that cannot be read is a sentence naming the variable (issue 15)."""

from __future__ import annotations

import pytest

from lead_assets import settings


@pytest.mark.parametrize(
    ("name", "read", "default"),
    [
        ("LEAD_ASSETS_RESERVE_USD", settings.reserve_usd, 0.0),
        ("LEAD_ASSETS_RECONCILE_GRACE_S", settings.reconcile_grace_seconds, 60.0),
        ("LEAD_ASSETS_MAX_RESUMES", settings.max_resumes, 5),
        ("LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS", settings.output_freshness_hours, 48.0),
        ("LEAD_ASSETS_BUDGET_USD_PER_RUN", settings.budget_usd_per_run, None),
    ],
)
def test_blank_is_the_default_and_junk_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    read,
    default,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv(name, "  ")
    assert read() == default
    monkeypatch.setenv(name, "12")
    assert read() == 12
    monkeypatch.setenv(name, "twelve")
    with pytest.raises(settings.SettingError, match=name):
        read()


def test_flags_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("LEAD_ASSETS_VALIDATE_EMAILS", raising=False)
    assert settings.validate_unknown_emails() is True
    monkeypatch.setenv("LEAD_ASSETS_VALIDATE_EMAILS", "off")
    assert settings.validate_unknown_emails() is False
    monkeypatch.delenv("LEAD_ASSETS_DNC_FILE", raising=False)
    assert settings.dnc_path().endswith("config/do_not_contact.csv")
    monkeypatch.setenv("LEAD_ASSETS_DNC_FILE", str(tmp_path / "dnc.csv"))
    assert settings.dnc_path() == str(tmp_path / "dnc.csv")


def test_every_documented_variable_is_unique() -> None:
    names = [v.name for v in settings.ENV_VARS]
    assert len(names) == len(set(names))
