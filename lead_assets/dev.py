"""``make dev``: ``dg dev``, the Dagster UI at http://127.0.0.1:3000 with the daemon, so sensors and
schedules tick. With no vendor keys configured, the local sandbox is started too and the resources point
at it, so a fresh clone is fully clickable without spending anything."""

from __future__ import annotations

import os
import subprocess
import sys

from lead_assets.instance import ensure_dagster_home
from lead_assets.settings import PROJECT_ROOT, landing_dir

SANDBOX_ENV = {
    "GENERECT_API_KEY": "test_sandbox",
    "GENERECT_BASE_URL": "http://127.0.0.1:8701",
    "LEEDRUSH_EMAIL": "demo@example.com",
    "LEEDRUSH_PASSWORD": "demo-password",
    "LEEDRUSH_BASE_URL": "http://127.0.0.1:8702",
}


def use_sandbox_if_unconfigured() -> subprocess.Popen | None:
    """Start ``lead-assets sandbox`` and point the vendor variables at it when no key is set."""
    if os.environ.get("GENERECT_API_KEY") or os.environ.get("LEEDRUSH_EMAIL"):
        return None
    os.environ.update(SANDBOX_ENV)
    print("No vendor keys configured: starting the local sandbox (Generect :8701, Leedrush :8702).")
    return subprocess.Popen([sys.executable, "-m", "lead_assets.cli", "sandbox"])


def demo_hint(home) -> str:
    """`make demo` keeps its own fresh instance and warehouse under .state/demo; say how to open
    them, since a UI on another instance shows none of the demo's runs."""
    demo_state = PROJECT_ROOT / ".state" / "demo"
    if (demo_state / "dagster_home").resolve() == home.resolve():
        return "Showing the demo's instance (runs, checks and spend of `make demo`)."
    return (
        "The runs of `make demo` live in their own instance; to see them: "
        f"LEAD_ASSETS_STATE_DIR={demo_state} make dev"
    )


def main() -> int:
    """Run ``dg dev`` on the project (``[tool.dg]`` in pyproject.toml) until interrupted."""
    home = ensure_dagster_home()
    landing_dir().mkdir(parents=True, exist_ok=True)
    sandbox = use_sandbox_if_unconfigured()
    print(f"DAGSTER_HOME={home}\nDrop lead files into {landing_dir()}\nUI: http://127.0.0.1:3000")
    print(demo_hint(home))
    dg = os.path.join(os.path.dirname(sys.executable), "dg")
    # dg reads the code location from [tool.dg] and runs it in this same virtual environment.
    cmd = [dg, "dev", "--use-active-venv", "--host", "127.0.0.1", "--port", "3000"]
    try:
        return subprocess.call(cmd, cwd=PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
