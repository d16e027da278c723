"""The ``lead-assets`` console script.

Each subcommand lives in ``lead_assets/commands/<name>.py`` and exposes ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Command modules keep heavy imports (Dagster,
pandas, httpx) inside ``run`` so that ``lead-assets --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: Subcommand name -> module under ``lead_assets.commands``.
COMMANDS: dict[str, str] = {
    "doctor": "doctor",
    "sandbox": "sandbox",
    "run": "run",
    "plan": "plan",
    "dedupe": "dedupe",
    "reconcile": "reconcile",
    "webhooks": "webhooks",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="lead-assets",
        description=(
            "Scheduled B2B lead enrichment on Dagster: ingest lead files, standardize, enrich "
            "with Generect and Leedrush under a spend ledger, deduplicate and qualify."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f"lead_assets.commands.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lead_assets.commands.{module_name}":
                raise
            continue  # a command not built yet is simply not offered
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


#: What the ``server`` extra installs (the sandbox and the webhook receiver), by import name.
SERVER_EXTRA_MODULES = frozenset({"starlette", "uvicorn", "multipart", "python_multipart", "jwt"})


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from lead_assets.commands.resources import SettingsMissing

    try:
        return int(args._run(args) or 0)
    except SettingsMissing as exc:  # a sentence naming the variables, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in SERVER_EXTRA_MODULES:
            raise
        print(
            f"error: `lead-assets {args.command}` runs an HTTP server and needs the server extra "
            f"({missing} is not installed): pip install 'lead-assets[server]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
