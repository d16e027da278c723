"""Configuration resolved from the environment, in one place.

Every knob of lead_assets is an environment variable (see the README's configuration table).
Nothing here imports Dagster or opens a connection; it only resolves values and defaults, so the
CLI, the Dagster resources and the tests all agree on what "the configured warehouse" means.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lead_assets.core.quality import Thresholds

#: The project root (the folder holding ``pyproject.toml``) when running from a checkout.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Folder for local state (SQLite warehouse, DAGSTER_HOME, landing folder, outbox).

    ``LEAD_ASSETS_STATE_DIR``; default ``.state/`` in the project root (git-ignored).
    """
    return Path(os.environ.get("LEAD_ASSETS_STATE_DIR") or PROJECT_ROOT / ".state").resolve()


def database_url() -> str:
    """Warehouse URL: ``LEAD_ASSETS_DATABASE_URL``, default a SQLite file in the state folder."""
    url = os.environ.get("LEAD_ASSETS_DATABASE_URL")
    if url:
        return normalize_database_url(url)
    return f"sqlite:///{state_dir() / 'warehouse.sqlite'}"


def normalize_database_url(url: str) -> str:
    """Pin PostgreSQL URLs to psycopg 3, which the warehouse uses for COPY.

    ``postgres://`` and bare ``postgresql://`` both become ``postgresql+psycopg://`` so that the
    meaning of the URL does not depend on which SQLAlchemy release is installed.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def landing_dir() -> Path:
    """Folder watched by the file-drop sensor (``LEAD_ASSETS_LANDING_DIR``)."""
    return Path(os.environ.get("LEAD_ASSETS_LANDING_DIR") or state_dir() / "landing").resolve()


def outbox_dir() -> Path:
    """Folder that receives the per-batch exports (``LEAD_ASSETS_OUTBOX_DIR``)."""
    return Path(os.environ.get("LEAD_ASSETS_OUTBOX_DIR") or state_dir() / "outbox").resolve()


def dagster_home() -> Path:
    """``DAGSTER_HOME``; default ``<state>/dagster_home`` (SQLite instance storage)."""
    return Path(os.environ.get("DAGSTER_HOME") or state_dir() / "dagster_home").resolve()


class SettingError(ValueError):
    """A variable that is set but cannot be read; the message names it and what it expects."""


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw or not raw.strip():
        return default
    try:
        return int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise SettingError(f"{name} must be a whole number, got {raw!r}") from None


def _number_env(name: str, default: float | None, what: str = "a number") -> float | None:
    # One parser for every numeric setting: blank means the default, junk is a sentence.
    raw = os.environ.get(name)
    if not raw or not raw.strip():
        return default
    try:
        return float(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise SettingError(f"{name} must be {what}, got {raw!r}") from None


def _flag_env(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


def _path_env(name: str, bundled: str) -> str:
    return os.environ.get(name) or str(PROJECT_ROOT / bundled)


# -- money -----------------------------------------------------------------------------------
def budget_usd_per_run() -> float | None:
    """``LEAD_ASSETS_BUDGET_USD_PER_RUN``: most USD one run may commit (unset: unlimited)."""
    return _number_env("LEAD_ASSETS_BUDGET_USD_PER_RUN", None, "a number of US dollars")


def budget_usd_per_day() -> float | None:
    """``LEAD_ASSETS_BUDGET_USD_PER_DAY``: most USD all runs may commit per UTC day."""
    return _number_env("LEAD_ASSETS_BUDGET_USD_PER_DAY", None, "a number of US dollars")


def reserve_usd() -> float:
    """``LEAD_ASSETS_RESERVE_USD`` (default 0): Generect balance never touched."""
    return float(_number_env("LEAD_ASSETS_RESERVE_USD", 0.0, "a number of US dollars") or 0.0)


def reserve_credits() -> float:
    """``LEAD_ASSETS_RESERVE_CREDITS`` (default 0): Leedrush credits never touched."""
    return float(_number_env("LEAD_ASSETS_RESERVE_CREDITS", 0.0, "a number of credits") or 0.0)


def validate_unknown_emails() -> bool:
    """``LEAD_ASSETS_VALIDATE_EMAILS`` (default on): pay to validate emails of unknown status."""
    return _flag_env("LEAD_ASSETS_VALIDATE_EMAILS", True)


def reverify_budget() -> tuple[float, float]:
    """``LEAD_ASSETS_REVERIFY_BUDGET_USD`` (default 5) and ``LEAD_ASSETS_REVERIFY_BUDGET_CREDITS``
    (default 1000): what one re-verification batch may cost, on top of the usual run budgets."""
    usd = _number_env("LEAD_ASSETS_REVERIFY_BUDGET_USD", 5.0, "a number of US dollars")
    credits = _number_env("LEAD_ASSETS_REVERIFY_BUDGET_CREDITS", 1000.0, "a number of credits")
    return float(usd or 0.0), float(credits or 0.0)


# -- time and recovery -----------------------------------------------------------------------
def reconcile_grace_seconds() -> float:
    """``LEAD_ASSETS_RECONCILE_GRACE_S`` (default 60): how long a vendor may take to show a charge
    in its books before an unmatched call counts as not billed."""
    return float(_number_env("LEAD_ASSETS_RECONCILE_GRACE_S", 60.0, "a number of seconds") or 0)


def max_resumes() -> int:
    """``LEAD_ASSETS_MAX_RESUMES`` (default 5): a batch whose run keeps dying is left for a human
    after this many resumes, rather than relaunched forever."""
    return _int_env("LEAD_ASSETS_MAX_RESUMES", 5)


def leedrush_timeout_seconds() -> float:
    """``LEAD_ASSETS_LEEDRUSH_TIMEOUT_S`` (default 6 hours): a batch still open is given up."""
    return float(_number_env("LEAD_ASSETS_LEEDRUSH_TIMEOUT_S", 6 * 3600.0, "seconds") or 0)


def stale_batch_seconds() -> float:
    """``LEAD_ASSETS_STALE_BATCH_S`` (default 3600): a Leedrush batch open longer is alerted."""
    return float(_number_env("LEAD_ASSETS_STALE_BATCH_S", 3600.0, "a number of seconds") or 0)


def webhook_tolerance_seconds() -> float:
    """``LEAD_ASSETS_WEBHOOK_TOLERANCE_S`` (default 300): how old a webhook event may be."""
    return float(_number_env("LEAD_ASSETS_WEBHOOK_TOLERANCE_S", 300.0, "a number of seconds") or 0)


def partition_retention_days() -> float:
    """``LEAD_ASSETS_PARTITION_RETENTION_DAYS`` (default 90): exported batches older than this
    lose their dynamic partition (their warehouse rows and exports stay)."""
    return float(_number_env("LEAD_ASSETS_PARTITION_RETENTION_DAYS", 90.0, "a number of days") or 0)


def recluster_drift_limit() -> float:
    """``LEAD_ASSETS_RECLUSTER_DRIFT`` (default 0.02): drift above this triggers a recluster."""
    return float(_number_env("LEAD_ASSETS_RECLUSTER_DRIFT", 0.02, "a share such as 0.02") or 0)


def output_freshness_hours() -> float:
    """``LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS`` (default 48): outputs fail freshness after this."""
    return float(_number_env("LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS", 48.0, "a number of hours") or 48)


# -- deployment and checks -------------------------------------------------------------------
GENERECT_SLOTS_ENV = "LEAD_ASSETS_GENERECT_SLOTS"


def generect_slots() -> int:
    """Generect steps allowed at once across the deployment (``LEAD_ASSETS_GENERECT_SLOTS``,
    default 1); each step's client gets that share of the account's parallel caps."""
    slots = _int_env(GENERECT_SLOTS_ENV, 1)
    if slots < 1:
        raise SettingError(f"{GENERECT_SLOTS_ENV} must be at least 1, got {slots}")
    return slots


def check_thresholds() -> Thresholds:
    """The asset checks' limits, each overridden by ``LEAD_ASSETS_CHECK_<NAME>`` when set (a
    whole-number limit takes a whole number; blank means the default)."""
    overrides: dict[str, float] = {}
    for name, default in Thresholds.defaults().items():
        var = f"LEAD_ASSETS_CHECK_{name.upper()}"
        if isinstance(default, int):
            overrides[name] = _int_env(var, default)
        else:
            value = _number_env(var, default)
            assert value is not None  # unset or blank gives the (not None) default
            overrides[name] = float(value)
    return Thresholds.with_overrides(overrides)


def demo_pg_url() -> str | None:
    """``LEAD_ASSETS_DEMO_PG_URL``: the PostgreSQL server ``make demo-distributed`` uses (unset:
    a throwaway cluster of its own)."""
    return (os.environ.get("LEAD_ASSETS_DEMO_PG_URL") or "").strip() or None


def demo_broker() -> str:
    """``LEAD_ASSETS_DEMO_BROKER``: ``rabbitmq`` (default) or ``redis``, the distributed demo's
    Celery broker."""
    kind = (os.environ.get("LEAD_ASSETS_DEMO_BROKER") or "rabbitmq").strip().lower()
    if kind not in ("rabbitmq", "redis"):
        raise SettingError(f"LEAD_ASSETS_DEMO_BROKER must be rabbitmq or redis, got {kind!r}")
    return kind


# -- configuration files ---------------------------------------------------------------------
def scoring_config_path() -> str:
    """``LEAD_ASSETS_SCORING_CONFIG`` or the bundled ``config/scoring.yaml``."""
    return _path_env("LEAD_ASSETS_SCORING_CONFIG", "config/scoring.yaml")


def dnc_path() -> str:
    """``LEAD_ASSETS_DNC_FILE`` or the bundled ``config/do_not_contact.csv``."""
    return _path_env("LEAD_ASSETS_DNC_FILE", "config/do_not_contact.csv")


def icp_profiles_path() -> str:
    """``LEAD_ASSETS_ICP_PROFILES`` or the bundled ``config/icp_profiles.yaml``."""
    return _path_env("LEAD_ASSETS_ICP_PROFILES", "config/icp_profiles.yaml")


def max_batch_rows() -> int:
    """Largest lead batch cut from one file (``LEAD_ASSETS_BATCH_ROWS``).

    Default 25,000: the Leedrush Starter plan's maximum rows per batch, and large enough that
    Dagster's per-run overhead (seconds) stays small next to the work.
    """
    return _int_env("LEAD_ASSETS_BATCH_ROWS", 25_000)


def landing_quiet_seconds() -> float:
    """A dropped file untouched for this long is complete (``LEAD_ASSETS_LANDING_QUIET_S``,
    default 5: as long as the old rule's wait between two ticks, so no less safe, but a file
    moved or copied in before a tick is taken at that tick instead of the next one)."""
    return float(_number_env("LEAD_ASSETS_LANDING_QUIET_S", 5.0, "seconds such as 5") or 0)


def max_file_bytes() -> int:
    """Files above this size, or inflating past it, are quarantined (``LEAD_ASSETS_MAX_FILE_BYTES``,
    default 300 MB: what one host can parse in memory, see ``core.parsing.DEFAULT_MAX_BYTES``)."""
    return _int_env("LEAD_ASSETS_MAX_FILE_BYTES", 300_000_000)


def mask_secret(value: str | None) -> str:
    """Show that a secret is set without revealing it: ``'te…(12 chars)'`` or ``'<unset>'``."""
    if not value:
        return "<unset>"
    return f"{value[:2]}…({len(value)} chars)"


def mask_url_password(url: str) -> str:
    """Replace the password of a database URL with ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show nothing sensitive
        return "<unparseable URL>"


@dataclass(frozen=True)
class EnvVarDoc:
    """One documented environment variable (the README's configuration table mirrors this)."""

    name: str
    default: str
    secret: bool
    help: str


ENV_VARS: tuple[EnvVarDoc, ...] = (
    EnvVarDoc("LEAD_ASSETS_STATE_DIR", ".state/ in the project", False, "local state folder"),
    EnvVarDoc("LEAD_ASSETS_DATABASE_URL", "sqlite:///<state>/warehouse.sqlite", True, "warehouse"),
    EnvVarDoc(
        "LEAD_ASSETS_LANDING_DIR", "<state>/landing", False, "folder the file-drop sensor watches"
    ),
    EnvVarDoc("LEAD_ASSETS_OUTBOX_DIR", "<state>/outbox", False, "per-batch exports"),
    EnvVarDoc("LEAD_ASSETS_BATCH_ROWS", "25000", False, "largest lead batch cut from one file"),
    EnvVarDoc(
        "LEAD_ASSETS_LANDING_QUIET_S",
        "5",
        False,
        "a dropped file unmodified for this many seconds is complete",
    ),
    EnvVarDoc(
        "LEAD_ASSETS_MAX_FILE_BYTES",
        "300000000",
        False,
        "larger files (or gzips inflating past it) are quarantined",
    ),
    EnvVarDoc("DAGSTER_HOME", "<state>/dagster_home", False, "Dagster instance folder"),
    EnvVarDoc("DAGSTER_PG_HOST", "unset", False, "Dagster storage host (production dagster.yaml)"),
    EnvVarDoc("DAGSTER_PG_PORT", "unset", False, "Dagster storage port"),
    EnvVarDoc("DAGSTER_PG_USER", "unset", False, "Dagster storage user"),
    EnvVarDoc("DAGSTER_PG_PASSWORD", "unset", True, "Dagster storage password"),
    EnvVarDoc("DAGSTER_PG_DB", "unset", False, "Dagster storage database"),
    EnvVarDoc("GENERECT_API_KEY", "unset", True, "Generect API key"),
    EnvVarDoc("GENERECT_BASE_URL", "https://api.generect.com", False, "Generect base URL"),
    EnvVarDoc("LEEDRUSH_EMAIL", "unset", True, "Leedrush login"),
    EnvVarDoc("LEEDRUSH_PASSWORD", "unset", True, "Leedrush password"),
    EnvVarDoc("LEEDRUSH_BASE_URL", "https://leedrush.com", False, "Leedrush base URL"),
    EnvVarDoc("LEEDRUSH_PLAN", "read from the subscription", False, "Leedrush plan override"),
    EnvVarDoc("LEAD_ASSETS_BUDGET_USD_PER_RUN", "unlimited", False, "most USD one run may commit"),
    EnvVarDoc(
        "LEAD_ASSETS_BUDGET_USD_PER_DAY",
        "unlimited",
        False,
        "most USD all runs may commit per UTC day",
    ),
    EnvVarDoc("LEAD_ASSETS_RESERVE_USD", "0", False, "Generect balance never touched"),
    EnvVarDoc("LEAD_ASSETS_RESERVE_CREDITS", "0", False, "Leedrush credits never touched"),
    EnvVarDoc(
        "LEAD_ASSETS_VALIDATE_EMAILS", "1", False, "pay to validate emails of unknown status"
    ),
    EnvVarDoc(
        "LEAD_ASSETS_LEEDRUSH_TIMEOUT_S", "21600", False, "give up on a Leedrush batch after this"
    ),
    EnvVarDoc("LEAD_ASSETS_SCORING_CONFIG", "config/scoring.yaml", False, "scoring rules"),
    EnvVarDoc("LEAD_ASSETS_DNC_FILE", "config/do_not_contact.csv", False, "do-not-contact list"),
    EnvVarDoc("LEAD_ASSETS_ICP_PROFILES", "config/icp_profiles.yaml", False, "ICP profiles"),
    EnvVarDoc(
        "LEAD_ASSETS_ALERT_WEBHOOK_URL", "unset (log only)", True, "Slack-compatible alert webhook"
    ),
    EnvVarDoc("LEAD_ASSETS_UI_URL", "http://127.0.0.1:3000", False, "UI base for run links"),
    EnvVarDoc("LEAD_ASSETS_STALE_BATCH_S", "3600", False, "alert on a Leedrush batch this old"),
    EnvVarDoc(
        "LEAD_ASSETS_CHECK_<LIMIT>", "see lead_assets/core/quality.py", False, "check limits"
    ),
    EnvVarDoc("LEEDRUSH_WEBHOOK_SECRET", "unset", True, "Leedrush webhook signing secret"),
    EnvVarDoc("GENERECT_WEBHOOK_SECRET", "unset", True, "Generect webhook signing secret"),
    EnvVarDoc("LEAD_ASSETS_WEBHOOK_TOLERANCE_S", "300", False, "oldest webhook event accepted"),
    EnvVarDoc(
        "LEAD_ASSETS_PARTITION_RETENTION_DAYS", "90", False, "prune exported batches' partitions"
    ),
    EnvVarDoc(
        "LEAD_ASSETS_OUTPUT_FRESHNESS_HOURS",
        "48",
        False,
        "outputs turn red in the UI after this long without a new batch (warn at half)",
    ),
    EnvVarDoc("LEAD_ASSETS_MAX_RESUMES", "5", False, "resumes of a batch whose runs keep dying"),
    EnvVarDoc(
        "LEAD_ASSETS_RECONCILE_GRACE_S", "60", False, "wait for a charge in the vendor's books"
    ),
    EnvVarDoc("LEAD_ASSETS_RECLUSTER_DRIFT", "0.02", False, "drift that triggers a recluster"),
    EnvVarDoc(
        "LEAD_ASSETS_REVERIFY_BUDGET_USD", "5", False, "most USD one re-verification batch may cost"
    ),
    EnvVarDoc(
        "LEAD_ASSETS_REVERIFY_BUDGET_CREDITS", "1000", False, "most Leedrush credits it may cost"
    ),
)


def resolved_environment() -> list[tuple[str, str]]:
    """Every documented variable with its resolved value, secrets masked (for ``doctor``)."""
    rows: list[tuple[str, str]] = []
    for var in ENV_VARS:
        raw = os.environ.get(var.name)
        if var.name == "LEAD_ASSETS_DATABASE_URL":
            shown = mask_url_password(database_url())
        elif var.secret:
            shown = mask_secret(raw)
        elif var.name == "LEAD_ASSETS_STATE_DIR":
            shown = str(state_dir())
        elif var.name == "LEAD_ASSETS_LANDING_DIR":
            shown = str(landing_dir())
        elif var.name == "LEAD_ASSETS_OUTBOX_DIR":
            shown = str(outbox_dir())
        elif var.name == "DAGSTER_HOME":
            shown = str(dagster_home())
        else:
            shown = raw or f"(default) {var.default}"
        rows.append((var.name, shown))
    return rows
