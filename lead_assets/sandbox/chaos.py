"""Chaos runs: the real ``lead-assets run`` against a faulty sandbox *process*, killed with SIGKILL
at chosen points, run again until done, and checked against the sandbox's own books.

Used by the chaos test (small, bounded) and ``benchmarks/bench_chaos.py`` (2,000 leads). The books
are read over HTTP exactly as a user could: Generect's transactions (each charge names what it
bought, a sandbox extra) and balance, Leedrush's credits and batch listing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lead_assets.sandbox.server import free_port
from lead_assets.settings import PROJECT_ROOT

GENERECT_KEY = "test_sandbox"
LEEDRUSH_LOGIN = ("demo@example.com", "demo-password")


@dataclass
class Books:
    """What the sandbox says was charged."""

    generect_usd: float
    generect_items: Counter
    leedrush_credits: int
    leedrush_batches_per_name: Counter


@dataclass
class SandboxProcess:
    """A ``lead-assets sandbox`` subprocess on free loopback ports."""

    process: subprocess.Popen
    generect_url: str
    leedrush_url: str
    credits: int

    def environment(self) -> dict[str, str]:
        """Variables that point lead_assets at this sandbox."""
        return {
            "GENERECT_API_KEY": GENERECT_KEY,
            "GENERECT_BASE_URL": self.generect_url,
            "LEEDRUSH_EMAIL": LEEDRUSH_LOGIN[0],
            "LEEDRUSH_PASSWORD": LEEDRUSH_LOGIN[1],
            "LEEDRUSH_BASE_URL": self.leedrush_url,
        }

    def books(self) -> Books:
        """Read both vendors' books (free calls, retried through the faults)."""
        from lead_assets.clients.generect import GenerectClient
        from lead_assets.clients.http_policy import RetryPolicy
        from lead_assets.clients.leedrush import LeedrushClient

        policy = RetryPolicy(max_attempts=20, backoff_base=0.05, backoff_cap=0.2)
        items: Counter = Counter()
        total = 0.0
        with GenerectClient(GENERECT_KEY, self.generect_url, policy=policy) as g:
            offset = 0
            while True:
                page = g.transactions(limit=100, offset=offset)
                for t in page:
                    total += -float(t["credits"])
                    for item in (t.get("details") or {}).get("items") or []:
                        items[(_kind(t["type"]), item)] += 1
                if len(page) < 100:
                    break
                offset += 100
        with LeedrushClient(
            *LEEDRUSH_LOGIN,
            self.leedrush_url,
            policy=RetryPolicy(
                max_attempts=20, backoff_base=0.05, backoff_cap=0.2, throttled_wait=1
            ),
        ) as lee:
            remaining = lee.credits_remaining()
            names = Counter(b.filename for b in lee.iter_batches(max_pages=50))
        return Books(round(total, 6), items, self.credits - int(remaining), names)


def _kind(transaction_type: str) -> str:
    """Single and bulk purchases of the same thing are the same item."""
    return {
        "email_finder": "email_find",
        "bulk_email": "email_find",
        "enrich_company": "company",
        "bulk_company": "company",
    }.get(transaction_type, transaction_type)


def _wait_port(url: str, deadline: float) -> None:
    host, port = url.split("//", 1)[1].split(":")
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"sandbox did not start on {url}")


@contextmanager
def sandbox_process(
    *, fault_rate: float, seed: int = 7, balance: float = 5_000.0, credits: int = 1_000_000
) -> Iterator[SandboxProcess]:
    """Start ``lead-assets sandbox`` in its own process; stop it afterwards."""
    g_port, l_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lead_assets.cli",
            "sandbox",
            "--generect-port",
            str(g_port),
            "--leedrush-port",
            str(l_port),
            "--fault-rate",
            str(fault_rate),
            "--fault-seed",
            str(seed),
            "--balance",
            str(balance),
            "--credits",
            str(credits),
            "--plan",
            "enterprise",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sandbox = SandboxProcess(
        process, f"http://127.0.0.1:{g_port}", f"http://127.0.0.1:{l_port}", credits
    )
    try:
        deadline = time.monotonic() + 60
        _wait_port(sandbox.generect_url, deadline)
        _wait_port(sandbox.leedrush_url, deadline)
        yield sandbox
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pipeline_environment(sandbox: SandboxProcess, state: Path, **extra: str) -> dict[str, str]:
    """A clean environment for ``lead-assets run``: its own state folder, this sandbox."""
    env = {**os.environ, **sandbox.environment(), "LEAD_ASSETS_STATE_DIR": str(state)}
    for var in (
        "DAGSTER_HOME",
        "LEAD_ASSETS_DATABASE_URL",
        "LEAD_ASSETS_LANDING_DIR",
        "LEAD_ASSETS_OUTBOX_DIR",
    ):
        env.pop(var, None)
    # Long enough for a slow (loaded) sandbox to finish a request the client gave up on.
    env.setdefault("LEAD_ASSETS_RECONCILE_GRACE_S", "15")
    env.update(extra)
    return env


@dataclass
class Attempt:
    """One ``lead-assets run`` process."""

    returncode: int
    killed: bool
    seconds: float
    rows: list[dict] = field(default_factory=list)
    stderr: str = ""
    #: Seconds after start when the signal was sent (None: not signalled).
    signalled_at: float | None = None


def run_once(
    env: dict[str, str],
    path: Path,
    *,
    kill_when: Callable[[float], bool] | None = None,
    timeout: float = 600,
    sig: int = signal.SIGKILL,
) -> Attempt:
    """Run ``lead-assets run PATH --json``; send ``sig`` (SIGKILL) as soon as ``kill_when(elapsed)``
    is true. ``Attempt.seconds`` is measured to the process's end."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "lead_assets.cli", "run", str(path), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = False
    signalled_at: float | None = None
    if kill_when is not None:
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if kill_when(elapsed):
                signalled_at = elapsed
                process.send_signal(sig)
                killed = True
                break
            if elapsed > timeout:
                break
            time.sleep(0.02)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    attempt = Attempt(process.returncode, killed, time.monotonic() - started, rows, err[-4000:])
    attempt.signalled_at = signalled_at
    return attempt


def run_until_done(
    env: dict[str, str],
    path: Path,
    *,
    kills: Sequence[Callable[[float], bool]] = (),
    max_attempts: int = 8,
) -> list[Attempt]:
    """Kill runs at the given points, then run again until every batch is done. A kill stays
    armed until it fires: an attempt that ends (faults) before reaching its point does not use
    it up, so every scenario really kills once per point."""
    attempts: list[Attempt] = []
    armed = list(kills)
    for _ in range(max_attempts + len(kills)):
        kill = armed[0] if armed else None
        attempt = run_once(env, path, kill_when=kill)
        attempts.append(attempt)
        if attempt.killed and armed:
            armed.pop(0)
        batches = [r for r in attempt.rows if r.get("batch")]
        if not attempt.killed and batches and all(r["status"] == "done" for r in batches):
            return attempts
    return attempts


def warehouse_state(state: Path) -> Callable[[str], list[tuple]]:
    """A read-only query function on the run's SQLite warehouse (for kill points and checks)."""
    import sqlite3

    db = state / "warehouse.sqlite"

    def query(sql: str) -> list[tuple]:
        if not db.exists():
            return []
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                return conn.execute(sql).fetchall()
        except sqlite3.Error:  # locked or not migrated yet: not yet
            return []

    return query


def during_ingest(state: Path) -> Callable[[float], bool]:
    """Kill point: a batch's ingest run under way (raw rows being written or standardized)."""
    query = warehouse_state(state)

    def ready(_: float) -> bool:
        rows = query("SELECT COUNT(*) FROM lead_batches WHERE state = 'ingesting'")
        return bool(rows) and rows[0][0] > 0

    return ready


def during_generect(state: Path, paid_calls: int = 3) -> Callable[[float], bool]:
    """Kill point: Generect enrichment under way (some paid calls reserved, batch enriching)."""
    query = warehouse_state(state)

    def ready(_: float) -> bool:
        rows = query(
            "SELECT COUNT(*) FROM spend_ledger WHERE vendor = 'generect' AND batch_key IN"
            " (SELECT batch_key FROM lead_batches WHERE state = 'enriching')"
        )
        return bool(rows) and rows[0][0] >= paid_calls

    return ready


def during_leedrush(state: Path) -> Callable[[float], bool]:
    """Kill point: a Leedrush submission reserved and its batch not yet recorded as submitted."""
    query = warehouse_state(state)

    def ready(_: float) -> bool:
        rows = query(
            "SELECT COUNT(*) FROM spend_ledger s JOIN lead_batches b ON b.batch_key = s.batch_key"
            " WHERE s.vendor = 'leedrush' AND b.state <> 'submitted'"
        )
        return bool(rows) and rows[0][0] > 0

    return ready


def after_seconds(seconds: float) -> Callable[[float], bool]:
    """Kill point: a fixed time after start."""
    return lambda elapsed: elapsed >= seconds


def violations(state: Path, books: Books, rows_in: int) -> list[str]:
    """The invariants, checked against the sandbox's books; an empty list means all hold."""
    query = warehouse_state(state)
    problems = []
    std = query("SELECT COUNT(*), COUNT(DISTINCT batch_key || row_id) FROM standardized_leads")[0]
    ok = query("SELECT COUNT(*) FROM standardized_leads WHERE status = 'ok'")[0][0]
    rejected = query("SELECT COUNT(*) FROM standardized_leads WHERE status = 'rejected'")[0][0]
    qualified = query("SELECT COUNT(*), COUNT(DISTINCT batch_key || row_id) FROM qualified_leads")[
        0
    ]
    if std[0] != rows_in or std[1] != rows_in:
        problems.append(f"{rows_in} rows in, {std[0]} standardized ({std[1]} distinct)")
    if ok + rejected != rows_in:
        problems.append(f"ok {ok} + rejected {rejected} != rows in {rows_in}")
    if qualified[0] != ok or qualified[1] != ok:
        problems.append(
            f"{ok} ok rows but {qualified[0]} qualification outcomes ({qualified[1]} distinct)"
        )
    twice = {k: n for k, n in books.generect_items.items() if n > 1}
    if twice:
        problems.append(f"Generect charged {len(twice)} item(s) more than once: {list(twice)[:5]}")
    names = {k: n for k, n in books.leedrush_batches_per_name.items() if n > 1}
    if names:
        problems.append(f"Leedrush processed an upload more than once: {names}")
    totals = dict(
        query(
            "SELECT unit, COALESCE(SUM(amount), 0) FROM spend_ledger WHERE state = 'settled' GROUP BY unit"
        )
    )
    if abs(float(totals.get("usd", 0.0)) - books.generect_usd) > 1e-6:
        problems.append(
            f"ledger ${totals.get('usd', 0.0):.4f} != Generect's books ${books.generect_usd:.4f}"
        )
    if abs(float(totals.get("credits", 0.0)) - books.leedrush_credits) > 1e-6:
        problems.append(
            f"ledger {totals.get('credits', 0)} credits != Leedrush's books {books.leedrush_credits}"
        )
    open_rows = query(
        "SELECT state, COUNT(*) FROM spend_ledger WHERE state NOT IN ('settled', 'released') GROUP BY state"
    )
    if open_rows:
        problems.append(f"ledger rows left undecided: {dict(open_rows)}")
    return problems


def write_lead_file(path: Path, n: int, *, seed: int = 0, with_email: float = 0.6) -> Path:
    """A CSV of ``n`` distinct leads over a few dozen companies: some with an email (validated),
    the others name + company domain only (email find), every domain enriched once."""
    lines = ["first_name,last_name,email,company,website,title,country"]
    domains = max(1, n // 8)
    for i in range(n):
        d = (seed * 1000 + i) % domains
        domain = f"chaos{seed}d{d}.com"
        email = f"c{seed}x{i}@{domain}" if (i % 100) < with_email * 100 else ""
        lines.append(f"Kim{seed}x{i},Ray{i},{email},Chaos {seed} {d},{domain},VP Sales,USA")
    path.write_text("\n".join(lines) + "\n")
    return path


def during_collect(state: Path) -> Callable[[float], bool]:
    """Kill point: the Leedrush result collected, the batch's exports not yet written."""
    query = warehouse_state(state)

    def ready(_: float) -> bool:
        rows = query(
            "SELECT COUNT(*) FROM lead_batches b WHERE b.state = 'collected' AND NOT EXISTS"
            " (SELECT 1 FROM batch_exports e WHERE e.batch_key = b.batch_key)"
        )
        return bool(rows) and rows[0][0] > 0

    return ready


@dataclass
class DaemonKill:
    """What :func:`daemon_kill` saw: the killed worker, whether every batch was exported, the
    batches' (key, resumes, enrich round, state), the sandbox's books and the invariants broken."""

    killed_pid: int | None
    exported: bool
    seconds: float
    batches: list[tuple]
    books: Books
    problems: list[str]


def daemon_kill(
    workdir: Path,
    *,
    rows: int = 300,
    fault_rate: float = 0.1,
    timeout_s: float = 900,
    log: Callable[[str], None] = lambda line: None,
) -> DaemonKill:
    """A killed run worker under the real ``dagster-daemon`` (the project's instance config and
    workspace): a lead file is dropped into the landing folder, the run worker enriching it is
    SIGKILLed after a few paid Generect calls (its pid read from its lease), and the daemon's
    sensors alone must bring the batch to an export. Returns the outcome and the invariants
    checked against the sandbox's books."""
    state = workdir / "state"
    leads = write_lead_file(workdir / "leads.csv", rows, seed=77)
    query = warehouse_state(state)
    with sandbox_process(fault_rate=fault_rate, seed=5) as sandbox:
        env = pipeline_environment(sandbox, state)
        env["DAGSTER_HOME"] = str(state / "dagster_home")
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from lead_assets.instance import ensure_dagster_home as e; e()",
            ],
            env=env,
            check=True,
        )
        started = time.monotonic()
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        killed_pid: int | None = None
        exported = False
        try:
            landing = state / "landing"
            landing.mkdir(parents=True, exist_ok=True)
            (landing / leads.name).write_bytes(leads.read_bytes())
            (landing / (leads.name + ".done")).write_text("")
            kill = during_generect(state, paid_calls=3)
            while time.monotonic() - started < timeout_s:
                elapsed = time.monotonic() - started
                if killed_pid is None and kill(elapsed):
                    workers = query(
                        "SELECT l.pid FROM run_leases l JOIN lead_batches b ON b.batch_key ="
                        " l.batch_key WHERE b.state = 'enriching' ORDER BY l.started_at DESC"
                    )
                    if workers:
                        killed_pid = int(workers[0][0])
                        os.kill(killed_pid, signal.SIGKILL)
                        log(f"{elapsed:6.1f}s SIGKILL run worker pid {killed_pid}")
                if killed_pid:
                    (done,) = query(
                        "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM batch_exports e"
                        " WHERE e.batch_key = b.batch_key) THEN 1 ELSE 0 END) FROM lead_batches b"
                    )
                    if done[0] and done[0] == done[1]:
                        exported = True
                        log(f"{elapsed:6.1f}s every batch exported")
                        break
                time.sleep(1)
            else:
                log(f"timed out after {timeout_s:.0f} s")
            batches = query("SELECT batch_key, resumes, enrich_round, state FROM lead_batches")
            books = sandbox.books()
            problems = violations(state, books, rows)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
    return DaemonKill(killed_pid, exported, time.monotonic() - started, batches, books, problems)
