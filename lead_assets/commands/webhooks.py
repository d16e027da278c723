"""``lead-assets webhooks``: the vendor webhook receiver on its own port (see lead_assets/webhooks.py)."""

from __future__ import annotations

import argparse
import os

HELP = "Receive Leedrush and Generect webhooks (signatures verified) into the warehouse."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Host and port of the receiver."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8703)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; refuses to start without the secrets."""
    import uvicorn

    from lead_assets.settings import database_url
    from lead_assets.warehouse import apply_migrations, make_engine
    from lead_assets.webhooks import create_app

    leedrush = os.environ.get("LEEDRUSH_WEBHOOK_SECRET", "")
    generect = os.environ.get("GENERECT_WEBHOOK_SECRET", "")
    if not leedrush and not generect:
        print(
            "Set LEEDRUSH_WEBHOOK_SECRET and/or GENERECT_WEBHOOK_SECRET: unsigned events are refused."
        )
        return 2
    engine = make_engine(database_url())
    apply_migrations(engine)
    print(f"webhook receiver on http://{args.host}:{args.port}/webhooks/{{leedrush,generect}}")
    uvicorn.run(
        create_app(engine, leedrush_secret=leedrush, generect_secret=generect),
        host=args.host,
        port=args.port,
        log_level="warning",
    )
    return 0
