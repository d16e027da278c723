"""The real ``dagster-daemon`` and webserver: a dropped file reaches the outbox with no click, a
batch with 60 % undeliverable emails is stopped by a blocking check before export and the
alert reaches a local webhook receiver. Progress is read through the webserver's GraphQL API."""

from __future__ import annotations

import time

import pytest

# Starting dagster dev and carrying two batches through the daemon takes a few minutes.
pytestmark = pytest.mark.timeout(1200)

MATERIALIZATIONS = """
query M($key: AssetKeyInput!, $p: [String!]) { assetOrError(assetKey: $key) { __typename
  ... on Asset { assetMaterializations(partitions: $p) { partition runId
    metadataEntries { label ... on FloatMetadataEntry { floatValue } ... on IntMetadataEntry { intValue } } } } } }
"""


def materializations(live, asset: str, key: str) -> list[dict]:  # type: ignore[no-untyped-def]
    data = live.graphql(MATERIALIZATIONS, {"key": {"path": [asset]}, "p": [key]})
    return data["assetOrError"]["assetMaterializations"]


def test_dropped_file_reaches_the_outbox_through_the_daemon(live, processed) -> None:  # type: ignore[no-untyped-def]
    key = processed.good_key
    runs = [r for r in live.runs() if r["tags"].get("dagster/partition") == key]
    # Three runs, each started by its sensor: no click, no in-process stand-in.
    by_job = {r["jobName"]: r for r in runs}
    assert by_job["ingest_job"]["tags"]["dagster/sensor_name"] == "file_drop_sensor"
    assert by_job["enrich_job"]["tags"]["dagster/sensor_name"] == "credits_sensor"
    assert by_job["collect_job"]["tags"]["dagster/sensor_name"] == "leedrush_status_sensor"
    assert all(r["status"] == "SUCCESS" for r in runs), runs
    assert (live.outbox / key).is_dir() and list((live.outbox / key).glob("*.csv"))
    [export] = materializations(live, "lead_exports", key)
    [enrichment] = materializations(live, "generect_enrichment", key)
    labels = {e["label"] for e in enrichment["metadataEntries"]}
    assert {"spend_usd", "cache_hit_rate", "paid_calls"} <= labels
    assert export["partition"] == key
    print(f"\ndrop-to-export through the real daemon: {processed.drop_to_export_s:.1f} s")


def test_bouncy_batch_is_blocked_before_export_and_alerted(live, processed, alert_sink) -> None:  # type: ignore[no-untyped-def]
    key = processed.bad_key
    [collect] = [
        r
        for r in live.runs()
        if r["tags"].get("dagster/partition") == key and r["jobName"] == "collect_job"
    ]
    assert collect["status"] == "FAILURE"
    assert materializations(live, "enriched_leads", key)
    assert not materializations(live, "lead_exports", key)
    assert not (live.outbox / key).exists()
    _url, bodies = alert_sink
    deadline = time.monotonic() + 90  # the run-failure sensor ticks every 15 s
    while time.monotonic() < deadline:
        mine = [b for b in bodies if b["lead_assets"].get("batch_key") == key]
        if mine:
            break
        time.sleep(1)
    assert mine, f"no alert for {key}: {bodies}"
    facts = mine[0]["lead_assets"]
    assert facts["kind"] == "check_failure"
    assert "email_deliverable_rate" in facts["reason"] and "undeliverable" in facts["reason"]
    assert facts["run_url"] == f"{live.url}/runs/{processed.bad_run_id}"
    assert "@" not in mine[0]["text"]
