"""Partitions: one dynamic partition per lead batch.

Keys are immutable, sortable and readable (``2026-11-22T0630Z-leads_q4-0003``): the time the
batch was registered, the source's stem, and a sequence number within the source.
"""

import dagster as dg

lead_batches = dg.DynamicPartitionsDefinition(name="lead_batches")
