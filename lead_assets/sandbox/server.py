"""Serving the sandbox: both apps under uvicorn, in the foreground (``lead-assets sandbox``) or in a
background thread on free loopback ports (tests, benchmarks, the demo)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from lead_assets.sandbox.generect import GenerectSandboxConfig, create_generect_app
from lead_assets.sandbox.leedrush import LeedrushSandboxConfig, create_leedrush_app


def free_port(host: str = "127.0.0.1") -> int:
    """An unused TCP port on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _ThreadedServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread keeps its own handlers
        pass


@contextmanager
def serve_in_thread(
    app: Starlette, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread; yield its base URL; stop it afterwards."""
    port = port or free_port(host)
    server = _ThreadedServer(
        uvicorn.Config(app, host=host, port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"sandbox server on {host}:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class RunningSandbox:
    """Base URLs and app state of a running sandbox pair."""

    generect_url: str
    leedrush_url: str
    generect: Starlette
    leedrush: Starlette

    def environment(self) -> dict[str, str]:
        """Environment variables that point lead_assets at this sandbox."""
        return {
            "GENERECT_API_KEY": self.generect.state.sandbox.config.api_keys[0],
            "GENERECT_BASE_URL": self.generect_url,
            "LEEDRUSH_EMAIL": self.leedrush.state.sandbox.config.email,
            "LEEDRUSH_PASSWORD": self.leedrush.state.sandbox.config.password,
            "LEEDRUSH_BASE_URL": self.leedrush_url,
        }


@contextmanager
def running_sandbox(
    generect: GenerectSandboxConfig | None = None,
    leedrush: LeedrushSandboxConfig | None = None,
    host: str = "127.0.0.1",
) -> Iterator[RunningSandbox]:
    """Both sandbox apps on free loopback ports for the duration of the block."""
    g_app, l_app = create_generect_app(generect), create_leedrush_app(leedrush)
    with serve_in_thread(g_app, host) as g_url, serve_in_thread(l_app, host) as l_url:
        yield RunningSandbox(g_url, l_url, g_app, l_app)


def serve_forever(
    generect: GenerectSandboxConfig,
    leedrush: LeedrushSandboxConfig,
    host: str,
    generect_port: int,
    leedrush_port: int,
) -> None:
    """Foreground mode for ``lead-assets sandbox``: both servers until interrupted."""
    with (
        serve_in_thread(create_generect_app(generect), host, generect_port) as g_url,
        serve_in_thread(create_leedrush_app(leedrush), host, leedrush_port) as l_url,
    ):
        print(f"Generect sandbox: {g_url}  (Authorization: Token {generect.api_keys[0]})")
        print(
            f"Leedrush sandbox: {l_url}  (login {leedrush.email} / {leedrush.password}, plan {leedrush.plan})"
        )
        print("Ctrl-C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
