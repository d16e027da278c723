"""Partitions: one dynamic partition per lead batch, and one per ICP pull.

Keys are immutable, sortable and readable (``2026-11-22T0630Z-leads_q4-3fa2c1-0003``): the
time the batch was registered, the source's stem, six hex digits of a file's content hash (so
two versions of one file dropped in the same minute never share a key; ICP and re-verification
batches have none) and a sequence number within the source (``pipeline/landing.batch_key``).

``icp_pulls`` holds only the batches the Generect counts sensor registered: ``icp_prospects``
is partitioned by it, so file batches are not missing partitions of an asset that never runs
for them. An ICP batch's key is in both; ``raw_uploads`` depends on ``icp_prospects`` partition
by partition (identity mapping) and has no upstream partition for a file batch.
"""

import dagster as dg

# The names as plain ``str``: a DynamicPartitionsDefinition's ``name`` is typed optional.
LEAD_BATCHES = "lead_batches"
ICP_PULLS = "icp_pulls"
lead_batches = dg.DynamicPartitionsDefinition(name=LEAD_BATCHES)
icp_pulls = dg.DynamicPartitionsDefinition(name=ICP_PULLS)


def icp_partition_requests(
    instance: dg.DagsterInstance, keys: list[str]
) -> list[dg.AddDynamicPartitionsRequest]:
    """The requests that add ICP batch ``keys`` to both partition sets (those not there yet)."""
    requests = []
    for name, partitions in ((ICP_PULLS, icp_pulls), (LEAD_BATCHES, lead_batches)):
        existing = set(instance.get_dynamic_partitions(name))
        new = [k for k in keys if k not in existing]
        if new:
            requests.append(partitions.build_add_request(new))
    return requests
