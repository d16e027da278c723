"""A local Leedrush that follows ``docs/vendor_contract.md`` (Leedrush, A-L1..A-L13).

JWT login with a short lifetime (so clients exercise re-login), a sliding 60-second request window
per token (429 with ``Retry-After``), the plan table (requests per minute, concurrent batches, rows
per batch), credits charged one per row at ``process``, a batch clock queued -> processing ->
completed|failed that tests run fast, CSV or JSON results with QUALIFIED rows only, signed
webhooks, and fault injection.

Choices where the contract is silent, all marked [I] there: ``process`` charges 1 credit per row
and reports it as ``credits_charged`` (a sandbox extra; the real response may not carry it);
insufficient credits answer ``402 {"detail": "Insufficient credits"}``; over-size batches a 422;
too many running batches a 429 with ``Retry-After`` (seconds until the first running batch ends);
the rpm window is kept per account (the token's subject), which is stricter than per token.

Faults (shared :class:`~lead_assets.sandbox.faults.FaultInjector`, by seeded rate or by the
``X-Sandbox-Fault`` header): ``429``, ``500``, ``502`` and ``slow`` strike *before* the handler (the
call was not served); ``malformed``, ``drop`` and ``timeout`` strike *after* it (the work was done
and charged, the answer was lost), the case that tempts a client to pay twice.

Batches fail when the filename contains ``fail``, when ``process`` carries ``X-Sandbox-Fail: 1``,
or for a deterministic share ``fail_rate`` of filenames.

Modules: ``config`` (tables, switches, account), ``rows`` (stateless results and error bodies),
``base`` (state, batch clock, login, auth, rate window, guard), one module per endpoint family
(``batches``, ``billing``, ``phase3``, ``webhooks``) and ``app`` (the class and the Starlette app).
"""

from lead_assets.sandbox.leedrush.app import LeedrushSandbox, create_leedrush_app
from lead_assets.sandbox.leedrush.base import LeedrushBase
from lead_assets.sandbox.leedrush.config import (
    EVENTS,
    PLAN_CREDITS,
    PLAN_NAMES,
    PLAN_RANK,
    PLANS,
    RESULT_COLUMNS,
    LeedrushAccount,
    LeedrushSandboxConfig,
)

__all__ = [
    "EVENTS",
    "PLANS",
    "PLAN_CREDITS",
    "PLAN_NAMES",
    "PLAN_RANK",
    "RESULT_COLUMNS",
    "LeedrushAccount",
    "LeedrushBase",
    "LeedrushSandbox",
    "LeedrushSandboxConfig",
    "create_leedrush_app",
]
