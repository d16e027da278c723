"""A whole pipeline against the sandbox: real HTTP, a real Dagster instance, a real warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from lead_assets.sandbox.generect import GenerectSandboxConfig
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
from lead_assets.sandbox.server import RunningSandbox, running_sandbox


def lead_file(
    path: Path, n: int, *, seed: int = 0, with_email: float = 0.5, domains: int = 37
) -> Path:
    """A CSV of ``n`` distinct leads over ``domains`` companies: some with an email, the others
    name + company domain only."""
    lines = ["first_name,last_name,email,company,website,title,country"]
    for i in range(n):
        d = (seed * 1000 + i) % domains
        domain = f"firm{seed}d{d}.com"
        email = f"p{seed}x{i}@{domain}" if (i % 100) < with_email * 100 else ""
        lines.append(f"Pat{seed}x{i},Lee{i},{email},Firm {seed} {d},{domain},VP Sales,USA")
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Pipeline:
    """Everything a pipeline test needs."""

    defs: dg.Definitions
    instance: dg.DagsterInstance
    sandbox: RunningSandbox
    landing: Path
    engine: object

    def drop(self, path: Path) -> None:
        """Drop a file with its .done marker, as a writer would."""
        target = self.landing / path.name
        target.write_bytes(path.read_bytes())
        (self.landing / (path.name + ".done")).write_text("")

    def drain(self, *sensors: str) -> list[tuple[str, str, bool]]:
        """Tick sensors until idle; return the runs made."""
        from lead_assets.inprocess_daemon import drain

        names = sensors or ("file_drop_sensor", "credits_sensor", "leedrush_status_sensor")
        return drain(
            self.defs, self.instance, list(names), poll_seconds=0.2, timeout_seconds=120
        ).runs

    @property
    def generect_charged(self) -> float:
        return self.sandbox.generect.state.sandbox.account.total_charged

    @property
    def leedrush_charged(self) -> float:
        return float(sum(c["credits"] for c in self.sandbox.leedrush.state.sandbox.account.charges))


@pytest.fixture
def pipeline_factory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    warehouse_url: str,
    request: pytest.FixtureRequest,
) -> Iterator:
    """Build Pipelines with sandbox configs of the test's choosing; each gets its own warehouse
    (the first one the parametrized backend's, later ones a fresh database on the same backend)."""
    stack = []
    dropped: list[str] = []

    def fresh_url() -> str:
        if not stack:
            return warehouse_url
        if warehouse_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'warehouse{len(stack)}.sqlite'}"
        from lead_assets_tests.conftest import create_database

        url = create_database(request.getfixturevalue("pg_server"), "lead_assets_t")
        dropped.append(url)
        return url

    def make(
        generect: GenerectSandboxConfig | None = None, leedrush: LeedrushSandboxConfig | None = None
    ) -> Pipeline:
        from lead_assets.definitions import build_definitions
        from lead_assets.warehouse import apply_migrations, make_engine

        url = fresh_url()
        sub = tmp_path / f"p{len(stack)}"
        sub.mkdir()

        ctx = running_sandbox(
            generect or GenerectSandboxConfig(balance=100.0),
            leedrush or LeedrushSandboxConfig(plan="enterprise", time_scale=0.1),
        )
        sandbox = ctx.__enter__()
        stack.append(ctx)
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        landing = sub / "landing"
        landing.mkdir()
        monkeypatch.setenv("LEAD_ASSETS_LANDING_DIR", str(landing))
        monkeypatch.setenv("LEAD_ASSETS_OUTBOX_DIR", str(sub / "outbox"))
        monkeypatch.setenv("LEAD_ASSETS_DATABASE_URL", url)
        home = sub / "dagster_home"
        home.mkdir()
        inst_ctx = dg.instance_for_test(temp_dir=str(home))
        instance = inst_ctx.__enter__()
        stack.append(inst_ctx)
        engine = make_engine(url)
        apply_migrations(engine)
        return Pipeline(build_definitions(), instance, sandbox, landing, engine)

    yield make
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)
    if dropped:
        from lead_assets_tests.conftest import drop_database

        for url in dropped:
            drop_database(request.getfixturevalue("pg_server"), url)
