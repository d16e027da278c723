"""The warehouse: SQLAlchemy 2 engine, numbered SQL migrations, idempotent partition writes.

SQLite (embedded default) and PostgreSQL run the same schema from ``sql/`` and pass the same tests.
"""

from lead_assets.warehouse.engine import make_engine
from lead_assets.warehouse.migrations import apply_migrations
from lead_assets.warehouse.partition_writes import read_partition, replace_partition

__all__ = ["apply_migrations", "make_engine", "read_partition", "replace_partition"]
