"""Numbered SQL migrations from ``sql/``, applied once each, recorded in ``schema_migrations``.

Files are named ``NNNN_description.sql``; statements are separated by ``;`` at the end of a line.
Each migration runs in one transaction with its version row, so a crash leaves it either fully
applied or not at all (PostgreSQL DDL is transactional; SQLite's is too). Concurrent appliers are
serialized (an advisory lock on PostgreSQL, an immediate write transaction on SQLite).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from lead_assets.settings import PROJECT_ROOT
from lead_assets.warehouse.engine import write_transaction

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Arbitrary constant identifying lead_assets' migration lock among advisory locks.
_PG_LOCK_ID = 0x1EAD_A55E


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """The file's statements, comments stripped, split on a trailing ``;``."""
        body = "\n".join(
            line for line in self.path.read_text().splitlines() if not line.strip().startswith("--")
        )
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def migrations_dir() -> Path:
    """``sql/`` in a checkout; ``lead_assets/sql`` inside an installed wheel."""
    packaged = Path(__file__).resolve().parent.parent / "sql"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "sql"


def discover(directory: Path | None = None) -> list[Migration]:
    """All migrations in version order; duplicate versions are an error."""
    found: dict[int, Migration] = {}
    for path in sorted((directory or migrations_dir()).glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name!r} is not named NNNN_description.sql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations share version {version:04d}: {path.name}")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def _ensure_version_table(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
    )


def applied_versions(engine: Engine) -> set[int]:
    """Versions already recorded in ``schema_migrations``."""
    with write_transaction(engine) as conn:
        _ensure_version_table(conn)
        return {row[0] for row in conn.execute(text("SELECT version FROM schema_migrations"))}


def apply_migrations(engine: Engine, directory: Path | None = None) -> list[int]:
    """Apply every migration not yet recorded; return the versions applied now (maybe none)."""
    applied_now: list[int] = []
    for migration in discover(directory):
        # SQLite: an IMMEDIATE transaction serializes concurrent appliers.
        with write_transaction(engine) as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
            _ensure_version_table(conn)
            done = conn.execute(
                text("SELECT 1 FROM schema_migrations WHERE version = :v"),
                {"v": migration.version},
            ).first()
            if done:
                continue
            for statement in migration.statements():
                conn.exec_driver_sql(statement)
            conn.execute(
                text(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)"
                ),
                {"v": migration.version, "n": migration.name, "t": datetime.now(UTC)},
            )
            applied_now.append(migration.version)
    return applied_now
