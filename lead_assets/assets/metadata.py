"""Turning plain summaries from the pipeline into Dagster metadata the UI can plot."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg


def to_metadata(summary: Mapping[str, object]) -> dict[str, dg.MetadataValue]:
    """ints and floats become numeric metadata (plotted across partitions), mappings and lists
    JSON, everything else text. Summaries never carry emails or phones: they are counts."""
    from lead_assets.core.pii import mask_value

    out: dict[str, dg.MetadataValue] = {}
    for key, value in summary.items():
        # Counts are safe; any text that reaches the UI (reasons, file names) is masked anyway.
        value = mask_value(value)
        if isinstance(value, bool):
            out[key] = dg.MetadataValue.bool(value)
        elif isinstance(value, int):
            out[key] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            out[key] = dg.MetadataValue.float(value)
        elif isinstance(value, Mapping | list | tuple):
            out[key] = dg.MetadataValue.json(value)
        elif value is None:
            out[key] = dg.MetadataValue.null()
        else:
            out[key] = dg.MetadataValue.text(str(value))
    return out
