"""The Celery app a lead_assets worker runs: ``celery -A lead_assets.distributed.worker worker``.

It is dagster-celery's own app and task (``dagster_celery.app`` builds the same), made with this
project's broker, backend and settings so that the workers and the executor agree on them. A
worker needs the code (this package), ``DAGSTER_HOME`` with the PostgreSQL instance config and the
vendor/warehouse environment; it receives every step's run, plan and instance reference from the
broker.
"""

from __future__ import annotations

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from lead_assets.distributed.settings import CELERY_SETTINGS, backend_url, broker_url

app = make_app(
    CeleryExecutor.for_cli(
        broker=broker_url(), backend=backend_url(), config_source=dict(CELERY_SETTINGS)
    ).app_args()
)
execute_plan = create_task(app)
