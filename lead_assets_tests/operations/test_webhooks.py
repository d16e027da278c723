"""The vendor webhook receiver over real HTTP: the Leedrush sandbox (``webhook_url``) delivers a
signed ``batch.completed``, the receiver records it once and the batch-status sensor requests the
collect run at its next tick without a status poll; bad signatures, replays and stale events get
401; Generect's base64 signature is verified the same way."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
from sqlalchemy import text

from lead_assets.clients.webhooks import generect_signature, leedrush_signature
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
from lead_assets.sandbox.server import serve_in_thread
from lead_assets.warehouse import apply_migrations, make_engine
from lead_assets.webhooks import create_app
from lead_assets_tests.enrichment.conftest import lead_file

SECRET = "whsec_test_13"


def test_signed_batch_completed_drives_the_status_sensor(
    pipeline_factory, warehouse_url: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(warehouse_url)
    apply_migrations(engine)
    app = create_app(engine, leedrush_secret=SECRET, generect_secret="g")
    with serve_in_thread(app) as url:
        p = pipeline_factory(
            leedrush=LeedrushSandboxConfig(
                plan="enterprise",
                time_scale=0.1,
                webhook_url=f"{url}/webhooks/leedrush",
                webhook_secret=SECRET,
            )
        )
        p.drop(lead_file(tmp_path / "hooked.csv", 30, seed=51, with_email=1.0))
        p.drain("file_drop_sensor")
        with p.engine.connect() as conn:
            key = conn.execute(text("SELECT batch_key FROM lead_batches")).scalar_one()
        job = p.defs.resolve_job_def("enrich_job")
        assert job.execute_in_process(instance=p.instance, partition_key=key).success
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with p.engine.connect() as conn:
                row = conn.execute(
                    text("SELECT status, detail FROM leedrush_submissions WHERE batch_key = :k"),
                    {"k": key},
                ).one()
            if row.status == "completed":
                break
            time.sleep(0.2)
        assert tuple(row) == ("completed", "status from webhook")
        with p.engine.connect() as conn:
            events = conn.execute(
                text("SELECT event FROM vendor_events WHERE vendor = 'leedrush'")
            ).all()
        assert ("batch.completed",) in events
        sensor = p.defs.resolve_sensor_def("leedrush_status_sensor")
        result = sensor(
            dg.build_sensor_context(
                instance=p.instance, resources=dict(p.defs.resources), definitions=p.defs
            )
        )
        assert [r.partition_key for r in result.run_requests] == [key]


def test_bad_replayed_and_stale_events_get_401(warehouse_url: str) -> None:
    engine = make_engine(warehouse_url)
    apply_migrations(engine)
    app = create_app(engine, leedrush_secret=SECRET, generect_secret="gsecret")
    now = datetime.now(UTC)
    body = json.dumps(
        {"event": "credits.low", "batch_id": None, "timestamp": now.isoformat(), "data": {}}
    ).encode()
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:

        def post(path: str, content: bytes, **headers: str) -> int:
            return client.post(path, content=content, headers=headers).status_code

        sig = leedrush_signature(SECRET, body)
        assert post("/webhooks/leedrush", body) == 401  # unsigned
        assert post("/webhooks/leedrush", body, **{"X-Leedrush-Signature": "00" * 32}) == 401
        # The signature covers the raw bytes: the same JSON re-serialised does not verify.
        reserialised = json.dumps(json.loads(body), indent=1).encode()
        assert post("/webhooks/leedrush", reserialised, **{"X-Leedrush-Signature": sig}) == 401
        assert post("/webhooks/leedrush", body, **{"X-Leedrush-Signature": sig}) == 200
        assert post("/webhooks/leedrush", body, **{"X-Leedrush-Signature": sig}) == 401  # replay
        stale = json.dumps(
            {"event": "credits.low", "timestamp": (now - timedelta(hours=1)).isoformat()}
        ).encode()
        stale_sig = leedrush_signature(SECRET, stale)
        assert post("/webhooks/leedrush", stale, **{"X-Leedrush-Signature": stale_sig}) == 401
        g_body = json.dumps({"id": "evt_1", "event": "webhook.test"}).encode()
        g_sig = generect_signature("gsecret", g_body)
        assert post("/webhooks/generect", g_body, **{"X-Webhook-Signature": g_sig}) == 200
        assert post("/webhooks/generect", g_body, **{"X-Webhook-Signature": g_sig}) == 401
        assert post("/webhooks/generect", g_body, **{"X-Webhook-Signature": sig}) == 401
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT vendor, event FROM vendor_events ORDER BY vendor")).all()
    assert [tuple(r) for r in rows] == [("generect", "webhook.test"), ("leedrush", "credits.low")]
