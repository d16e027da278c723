"""Resources for the commands, resolved exactly as Dagster resolves them for a run.

``defs.resources`` holds resources as *configured*: a field bound with ``dg.EnvVar`` still holds
the variable's name. A command that used them directly would take ``"LEAD_ASSETS_DATABASE_URL"``
for the URL. Every command goes through :func:`resolved_resource` (Dagster's own
``process_config_and_initialize``), and checks first with :func:`require_settings` that the
variables the resources need are set, so a missing one is a sentence, not a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeGuard

import dagster as dg

#: The variables to set for the local sandbox (``lead-assets sandbox`` prints their values).
SANDBOX_HINT = (
    "to try lead_assets without vendor accounts, start the local sandbox in another terminal "
    "with `lead-assets sandbox` and set GENERECT_API_KEY=test_sandbox "
    "GENERECT_BASE_URL=http://127.0.0.1:8701 LEEDRUSH_EMAIL=demo@example.com "
    "LEEDRUSH_PASSWORD=demo-password LEEDRUSH_BASE_URL=http://127.0.0.1:8702"
)


class SettingsMissing(Exception):
    """Variables a command needs are not set; ``str()`` is the sentence shown to the user."""

    def __init__(self, command: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"lead-assets {command} needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not set; {SANDBOX_HINT}."
        )


def env_vars_of(resource: Any) -> list[str]:
    """Names of the environment variables the resource's fields are bound to."""
    fields = getattr(type(resource), "model_fields", {})
    return [v.env_var_name for v in (getattr(resource, f, None) for f in fields) if _is_env(v)]


def _is_env(value: object) -> TypeGuard[dg.EnvVar]:
    return isinstance(value, dg.EnvVar)


def missing_settings(defs: dg.Definitions, names: Iterable[str]) -> list[str]:
    """Variables bound by the named resources that are unset or blank, in order, once each."""
    out: list[str] = []
    for name in names:
        for var in env_vars_of((defs.resources or {})[name]):
            if not (os.environ.get(var) or "").strip() and var not in out:
                out.append(var)
    return out


def require_settings(defs: dg.Definitions, names: Iterable[str], command: str) -> None:
    """Raise :class:`SettingsMissing` if a variable of the named resources is not set."""
    missing = missing_settings(defs, names)
    if missing:
        raise SettingsMissing(command, missing)


def resolved_resource(defs: dg.Definitions, name: str) -> Any:
    """The resource ``name`` with its EnvVars resolved, as a run would receive it."""
    return (defs.resources or {})[name].process_config_and_initialize()
