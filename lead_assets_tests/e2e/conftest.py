"""The real path: ``dagster dev`` (webserver + dagster-daemon + code server as separate processes)
on a fresh instance, the vendor sandbox over real HTTP, and a local alert receiver.

These tests take minutes and start processes, so ``make test`` leaves them out and ``make
test-e2e`` (run by ``.ci/run`` right after ``make test``) runs them with ``LEAD_ASSETS_E2E=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from lead_assets.settings import PROJECT_ROOT
from lead_assets.warehouse.throwaway_pg import free_port

if not os.environ.get("LEAD_ASSETS_E2E"):
    # Not a skip: the directory is simply not part of `make test`; `make test-e2e` runs it.
    collect_ignore_glob = ["test_*.py"]

RUNS_QUERY = """
query Runs { runsOrError(limit: 200) { __typename ... on Runs { results {
  runId jobName status creationTime startTime endTime tags { key value } } } } }
"""
LOCATION_QUERY = """
query Loc { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


@dataclass
class LiveDagster:
    """A running ``dagster dev`` and the folders it watches."""

    url: str
    landing: Path
    outbox: Path
    home: Path
    log_path: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        """POST a query to the webserver's GraphQL API; the ``data`` part."""
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self) -> list[dict]:
        """Every run the webserver knows, with tags as a dict."""
        results = self.graphql(RUNS_QUERY)["runsOrError"]["results"]
        for run in results:
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return results

    def drop(self, path: Path) -> float:
        """Drop a file the way a writer would (rename into place, then a .done marker)."""
        tmp = self.landing / f".{path.name}.part"
        tmp.write_bytes(path.read_bytes())
        tmp.rename(self.landing / path.name)
        (self.landing / f"{path.name}.done").write_text("")
        return time.monotonic()

    def wait_for(self, predicate, *, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
        """Poll ``predicate(runs)`` every second until it returns something truthy."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = predicate(self.runs())
            if found:
                return found
            time.sleep(1.0)
        tail = self.log_path.read_text()[-4000:]
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}\n{tail}")


@pytest.fixture(scope="session")
def alert_sink() -> Iterator[tuple[str, list[dict]]]:
    """A Slack-compatible receiver on loopback (the daemon's alert sensor posts to it)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts", bodies
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, alert_sink) -> Iterator[LiveDagster]:  # type: ignore[no-untyped-def]
    """``dagster dev`` on a fresh SQLite instance pointed at an in-test sandbox."""
    from lead_assets.instance import embedded_instance_config
    from lead_assets.sandbox.generect import GenerectSandboxConfig
    from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
    from lead_assets.sandbox.server import running_sandbox

    state = tmp_path_factory.mktemp("e2e_state")
    home = state / "dagster_home"
    home.mkdir()
    config = embedded_instance_config()
    config["storage"] = {"sqlite": {"base_dir": str(home / "storage")}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    landing, outbox = state / "landing", state / "outbox"
    landing.mkdir()
    port = free_port()
    with running_sandbox(
        GenerectSandboxConfig(balance=100.0),
        LeedrushSandboxConfig(plan="enterprise", time_scale=0.05),
    ) as sandbox:
        env = {
            **os.environ,
            **sandbox.environment(),
            "DAGSTER_HOME": str(home),
            "LEAD_ASSETS_STATE_DIR": str(state),
            "LEAD_ASSETS_DATABASE_URL": f"sqlite:///{state / 'warehouse.sqlite'}",
            "LEAD_ASSETS_LANDING_DIR": str(landing),
            "LEAD_ASSETS_OUTBOX_DIR": str(outbox),
            "LEAD_ASSETS_ALERT_WEBHOOK_URL": alert_sink[0],
            "LEAD_ASSETS_UI_URL": f"http://127.0.0.1:{port}",
        }
        log_path = state / "dagster_dev.log"
        dagster = str(Path(sys.executable).with_name("dagster"))
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [
                    dagster,
                    "dev",
                    "-w",
                    str(PROJECT_ROOT / "workspace.yaml"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                ],
                cwd=state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        live = LiveDagster(f"http://127.0.0.1:{port}", landing, outbox, home, log_path)
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log_path.read_text()[-4000:]
                try:
                    entries = live.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
                    if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                        errors = [
                            e
                            for e in entries
                            if e["locationOrLoadError"]["__typename"] == "PythonError"
                        ]
                        assert not errors, errors
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "dagster dev did not come up in 180 s"
                time.sleep(1.0)
            yield live
        finally:
            # Stop only the process group we started (dagster dev and its children).
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


@dataclass
class Processed:
    """The two batches the real daemon processed: a clean one and one with bouncing emails."""

    good_key: str
    bad_key: str
    drop_to_export_s: float
    bad_run_id: str


def _batch_run(runs: list[dict], job: str, stem: str, statuses: set[str]) -> dict | None:
    for run in runs:
        if (
            run["jobName"] == job
            and f"-{stem}-" in run["tags"].get("dagster/partition", "")
            and run["status"] in statuses
        ):
            return run
    return None


def print_timeline(runs: list[dict], stem: str, dropped_at: float) -> None:
    """Where drop-to-export goes: each run of the batch, queued / started / ended, in seconds
    after the drop (the gaps before a run is created are sensor ticks; created to started is
    the run queue and the run worker's start-up)."""
    mine = [r for r in runs if f"-{stem}-" in r["tags"].get("dagster/partition", "")]
    for run in sorted(mine, key=lambda r: r["creationTime"]):
        marks = [run["creationTime"], run["startTime"], run["endTime"]]
        shown = " / ".join("-" if m is None else f"{m - dropped_at:5.1f}" for m in marks)
        print(f"  {run['jobName']:<12} created / started / ended: {shown} s", file=sys.stderr)


@pytest.fixture(scope="session")
def processed(live: LiveDagster, tmp_path_factory: pytest.TempPathFactory) -> Processed:
    """Drop a clean file and a 60 %-undeliverable one; wait (bounded) for the daemon to carry
    each as far as it goes, with no call other than the GraphQL reads."""
    from lead_assets_tests.enrichment.conftest import lead_file
    from lead_assets_tests.operations.test_blocking_checks import undeliverable_file

    src = tmp_path_factory.mktemp("e2e_files")
    t0 = live.drop(lead_file(src / "e2egood.csv", 60, seed=41, with_email=0.5))
    done = live.wait_for(
        lambda runs: _batch_run(runs, "collect_job", "e2egood", {"SUCCESS", "FAILURE"}),
        timeout_s=420,
        what="the clean batch's collect run",
    )
    elapsed = time.monotonic() - t0
    print(f"\ndrop-to-export through the real daemon: {elapsed:.1f} s", file=sys.stderr)
    print_timeline(live.runs(), "e2egood", time.time() - elapsed)
    assert done["status"] == "SUCCESS", done
    live.drop(undeliverable_file(src / "e2ebad.csv", 60, 0.6))
    failed = live.wait_for(
        lambda runs: _batch_run(runs, "collect_job", "e2ebad", {"SUCCESS", "FAILURE"}),
        timeout_s=420,
        what="the bouncy batch's collect run",
    )
    return Processed(
        done["tags"]["dagster/partition"],
        failed["tags"]["dagster/partition"],
        elapsed,
        failed["runId"],
    )
