"""Distributed execution: Dagster's Celery executor, local Celery workers, vendor pools.

Nothing here runs unless ``LEAD_ASSETS_EXECUTOR=celery`` (or a caller asks for it): the default
stays the in-process executor. ``dagster-celery`` is the optional extra ``lead-assets[celery]``.
"""
