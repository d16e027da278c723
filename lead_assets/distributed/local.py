"""Local Celery workers and a broker namespace of their own, for the demo, tests and benchmarks.

A worker here is a separate ``celery worker`` process, started exactly as a second host would
start it (``celery -A lead_assets.distributed.worker worker -n <name>@%h``), sharing nothing with
the caller but the broker and PostgreSQL. Each use gets its own RabbitMQ vhost or Redis database
number, removed afterwards, so nothing depends on what else the broker holds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lead_assets.distributed.settings import BACKEND_ENV, BROKER_ENV, EXECUTOR_ENV

RABBITMQ_HOST = "127.0.0.1:5672"
REDIS_HOST = "127.0.0.1:6379"


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached or configured; the message says how to fix it."""


def _rabbitmqctl(*args: str) -> None:
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        raise BrokerUnavailable(
            "rabbitmqctl not found: install RabbitMQ (apt-get install rabbitmq-server) or use "
            "the Redis broker (broker='redis')"
        )
    # Its own session: the Erlang CLI must not share signals with the caller's process group.
    done = subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=60, start_new_session=True
    )
    if done.returncode != 0:
        raise BrokerUnavailable(
            f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}"
        )


@contextmanager
def rabbitmq_vhost(prefix: str = "lead_assets") -> Iterator[str]:
    """A fresh RabbitMQ vhost for guest on the local server; yields the broker URL."""
    vhost = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"pyamqp://guest:guest@{RABBITMQ_HOST}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@contextmanager
def redis_database(db: int | None = None) -> Iterator[str]:
    """A Redis database number nobody else uses here (emptied after); yields the broker URL."""
    import redis

    number = db if db is not None else 8 + os.getpid() % 8
    client = redis.Redis.from_url(f"redis://{REDIS_HOST}/{number}")
    try:
        if client.dbsize():
            raise BrokerUnavailable(f"Redis database {number} is not empty: choose another")
    except redis.ConnectionError as exc:
        raise BrokerUnavailable(f"Redis at {REDIS_HOST} is not reachable: {exc}") from None
    try:
        yield f"redis://{REDIS_HOST}/{number}"
    finally:
        client.flushdb()
        client.close()


@contextmanager
def broker_namespace(kind: str = "rabbitmq") -> Iterator[str]:
    """A broker URL of our own: ``rabbitmq`` (a vhost) or ``redis`` (a database number)."""
    if kind == "rabbitmq":
        with rabbitmq_vhost() as url:
            yield url
    elif kind == "redis":
        with redis_database() as url:
            yield url
    else:
        raise ValueError(f"broker must be 'rabbitmq' or 'redis', got {kind!r}")


def distributed_environment(broker: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a run worker and its Celery workers share (celery executor, broker)."""
    env = dict(base if base is not None else os.environ)
    env[EXECUTOR_ENV] = "celery"
    env[BROKER_ENV] = broker
    env.setdefault(BACKEND_ENV, "rpc://")
    return env


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc, no extra dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the parent pid is the second field after ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class LocalWorker:
    """One ``celery worker`` process (prefork, ``concurrency`` step processes)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    hostname: str = field(default="")

    def ready(self) -> bool:
        """True once the worker has connected and announced itself."""
        try:
            return " ready." in self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return False

    def step_processes(self) -> list[int]:
        """The pool processes that execute steps (children of the worker)."""
        return _children(self.process.pid)

    def kill_step_process(self) -> list[int]:
        """SIGKILL the processes executing steps (as the OOM killer would); the worker lives."""
        pids = self.step_processes()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (finish the current step), then SIGKILL if it does not end in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_worker(
    name: str, env: Mapping[str, str], log_dir: Path, *, concurrency: int = 1
) -> LocalWorker:
    """Start ``celery worker -n <name>@%h`` on the ``dagster`` queue; returns without waiting."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "lead_assets.distributed.worker",
        "worker",
        "-n",
        f"{name}@%h",
        "-Q",
        "dagster",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        # Gossip, mingle and heartbeats chatter between workers; steps need none of it.
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
        "--logfile",
        str(log_path),
    ]
    # Its own session, as on another host: a Ctrl-C in the caller's terminal does not reach it
    # (we stop it ourselves), and its shutdown signals do not reach the caller.
    process = subprocess.Popen(
        command,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return LocalWorker(name, process, log_path, hostname=f"{name}@{os.uname().nodename}")


@contextmanager
def local_workers(
    names: list[str], env: Mapping[str, str], log_dir: Path, *, start_timeout: float = 120.0
) -> Iterator[list[LocalWorker]]:
    """Start one worker per name, wait until all are ready, stop them all afterwards."""
    workers = [start_worker(name, env, log_dir) for name in names]
    try:
        deadline = time.monotonic() + start_timeout
        while not all(w.ready() for w in workers):
            dead = [w for w in workers if w.process.poll() is not None]
            if dead:
                raise RuntimeError(
                    f"Celery worker {dead[0].name} exited at start; its log: "
                    + dead[0].log_path.read_text(errors="replace")[-2000:]
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"Celery workers not ready after {start_timeout:.0f} s")
            time.sleep(0.3)
        yield workers
    finally:
        for worker in workers:
            worker.stop()
