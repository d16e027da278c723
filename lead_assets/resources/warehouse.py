"""The warehouse as a Dagster resource."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from lead_assets.warehouse import apply_migrations, make_engine


class WarehouseResource(dg.ConfigurableResource):
    """SQLAlchemy engine on the configured warehouse, migrated on first use.

    ``database_url`` empty means the environment's ``LEAD_ASSETS_DATABASE_URL`` or the embedded
    SQLite default. The URL may hold a password, so bind it with ``dg.EnvVar``.
    """

    database_url: str = ""
    _engine: Engine | None = PrivateAttr(default=None)

    def __repr_args__(self) -> Any:  # pydantic's repr: never show the URL's password
        from lead_assets.settings import mask_url_password

        return [
            (k, mask_url_password(v) if k == "database_url" and v else v)
            for k, v in super().__repr_args__()
        ]

    def engine(self) -> Engine:
        """The migrated engine (created once per resource instance)."""
        if self._engine is None:
            engine = make_engine(self.database_url or None)
            apply_migrations(engine)
            self._engine = engine
        return self._engine
