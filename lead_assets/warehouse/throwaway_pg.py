"""A throwaway PostgreSQL cluster started from the machine's binaries (tests, benchmarks and
``make demo-distributed`` when no server is configured).

Used when ``LEAD_ASSETS_TEST_PG_URL`` is unset. The cluster lives in a temporary folder, listens on
a free loopback port with fsync off, and is stopped and deleted at the end of the session. When
invoked as root, initdb and pg_ctl run as the ``postgres`` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found, and LEAD_ASSETS_TEST_PG_URL is "
    "not set. Install them (Debian/Ubuntu: `apt-get install postgresql`; macOS: "
    "`brew install postgresql`) or point LEAD_ASSETS_TEST_PG_URL at a server where the test user "
    "may create databases, e.g. postgresql://postgres@127.0.0.1:5432/postgres."
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started or reached for the tests."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH, ``pg_config --bindir``, or Debian's layout."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(
            subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
        )
        if (bindir / "initdb").exists():
            return bindir
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ThrowawayCluster:
    """A running temporary cluster; ``url`` points at its ``postgres`` database."""

    bindir: Path
    root: Path
    port: int
    as_postgres_user: bool

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres_user:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    @classmethod
    def start(cls) -> ThrowawayCluster:
        """initdb + pg_ctl start on a free port; raise PostgresUnavailable with the reason."""
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable(INSTALL_HINT)
        as_root = os.geteuid() == 0
        root = Path(tempfile.mkdtemp(prefix="lead_assets_pg_"))
        if as_root:
            shutil.chown(root, "postgres", "postgres")
        cluster = cls(bindir, root, free_port(), as_root)
        data = root / "data"
        res = cluster._run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        if res.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"initdb failed: {res.stderr.strip() or res.stdout.strip()}")
        opts = (
            f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        res = cluster._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if res.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"pg_ctl start failed: {res.stderr.strip()} {log[-2000:]}")
        cluster._wait_ready()
        return cluster

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise PostgresUnavailable("the throwaway PostgreSQL cluster did not accept connections")

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
