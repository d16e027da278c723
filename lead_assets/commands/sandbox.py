"""``lead-assets sandbox``: local Generect and Leedrush servers that follow the contracts."""

from __future__ import annotations

import argparse

HELP = (
    "Serve local Generect (default http://127.0.0.1:8701) and Leedrush (http://127.0.0.1:8702) "
    "sandboxes. Default credentials: Generect key 'test_sandbox' (header 'Authorization: Token "
    "test_sandbox'); Leedrush user 'demo@example.com' with password 'demo-password'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Ports, account and strictness switches."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--generect-port", type=int, default=8701)
    parser.add_argument("--leedrush-port", type=int, default=8702)
    parser.add_argument(
        "--plan",
        default="starter",
        help="Leedrush plan: payg, starter, professional, scale, enterprise",
    )
    parser.add_argument("--balance", type=float, default=50.0, help="Generect balance in USD")
    parser.add_argument("--credits", type=int, default=100_000, help="Leedrush credits")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of requests given a random fault (429, 5xx, malformed, drop)",
    )
    parser.add_argument(
        "--fault-seed", type=int, default=None, help="seed of the fault draw (reproducible runs)"
    )
    parser.add_argument(
        "--realistic", action="store_true", help="realistic latency and a slow Leedrush batch clock"
    )
    parser.add_argument("--webhook-url", help="Leedrush: POST signed batch events here")
    parser.add_argument(
        "--prod-silent-zero",
        action="store_true",
        help="Generect: unknown seniority returns 0 rows instead of 400",
    )
    parser.add_argument(
        "--lenient", action="store_true", help="Generect: accept headcount aliases such as 10001+"
    )
    parser.add_argument(
        "--legacy-400-funds",
        action="store_true",
        help="Generect: insufficient funds as 400 instead of 402",
    )
    parser.add_argument(
        "--preview-free",
        action="store_true",
        help="Generect: Preview rows cost nothing (seed behaviour)",
    )
    parser.add_argument(
        "--retry-after", action="store_true", help="Generect: add Retry-After: 1 to throttling 429s"
    )
    parser.add_argument(
        "--email-find-rate",
        type=float,
        default=None,
        help="Generect: share of arbitrary (name, domain) lookups that find an address (default 0.70)",
    )
    parser.add_argument(
        "--company-rate",
        type=float,
        default=None,
        help="Generect: share of arbitrary domains with a company profile (default 0.85)",
    )
    parser.add_argument(
        "--shuffle-pages",
        action="store_true",
        help="Generect: unstable search ordering between calls (surfaces offset-paging bugs)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from lead_assets.sandbox.generect import GenerectSandboxConfig
    from lead_assets.sandbox.leedrush import LeedrushSandboxConfig
    from lead_assets.sandbox.server import serve_forever

    generect = GenerectSandboxConfig(
        balance=args.balance,
        fault_rate=args.fault_rate,
        latency_s=0.05 if args.realistic else 0.0,
        prod_silent_zero=args.prod_silent_zero,
        lenient=args.lenient,
        legacy_400_funds=args.legacy_400_funds,
        preview_free=args.preview_free,
        retry_after=args.retry_after,
        shuffle_pages=args.shuffle_pages,
        **{
            name: value
            for name, value in (
                ("fault_seed", args.fault_seed),
                ("email_find_rate", args.email_find_rate),
                ("company_rate", args.company_rate),
            )
            if value is not None
        },
    )
    leedrush = LeedrushSandboxConfig(
        plan=args.plan,
        credits=args.credits,
        fault_rate=args.fault_rate,
        realistic=args.realistic,
        webhook_url=args.webhook_url,
        **({"fault_seed": args.fault_seed + 1} if args.fault_seed is not None else {}),
    )
    serve_forever(generect, leedrush, args.host, args.generect_port, args.leedrush_port)
    return 0
