"""The landing folder as an asset an ops person can open: every file the file-drop sensor took,
with its outcome, as an observation on ``landing_files``.

A quarantined file or a re-dropped identical file starts no run, so without this it shows only
as a grey sensor tick; here each one is an event with the file name and the reason (masked:
no email or phone from a name or a reason), next to the registered files and their batches
(issue 13). The ops alert sensor also alerts on quarantine.
"""

from typing import Any

import dagster as dg

landing_files = dg.AssetSpec(
    "landing_files",
    group_name="ingestion",
    kinds={"file"},
    description=(
        "Files dropped into LEAD_ASSETS_LANDING_DIR, observed by file_drop_sensor: one event per "
        "file with outcome registered (and its batches), quarantined (with the reason; the file "
        "is in quarantine/ beside <name>.reason.txt) or duplicate (the same version again; "
        "nothing to do)."
    ),
)


def outcome_events(summary: dict) -> list[dg.AssetObservation]:
    """One observation per file the tick decided on, from the landing summary."""
    import os

    from lead_assets.core.pii import mask_text

    def event(path: str, outcome: str, **extra: Any) -> dg.AssetObservation:
        return dg.AssetObservation(
            asset_key=landing_files.key,
            metadata={"file": mask_text(os.path.basename(path)), "outcome": outcome, **extra},
        )

    events = [
        event(path, "registered", batches=len(keys), first_batch=keys[0] if keys else "")
        for path, keys in summary["registered_batches"].items()
    ]
    events += [
        event(path, "quarantined", reason=mask_text(reason))
        for path, reason in summary["quarantined"]
    ]
    events += [
        event(path, "duplicate", reason="this exact file version was already processed")
        for path in summary["duplicates"]
    ]
    return events
