"""The one price table: vendor list prices and the sandbox's default hit rates.

Every reader takes its numbers from here: the credit planner (estimates before a run), the
Generect client (the estimate each ledger reservation carries), the sandbox (what it charges) and
the reuse accounting (what the cache and resolve-before-buy saved). The charge a run settles is
always the vendor's own ``amount_charged``; these numbers only predict it.
"""

from __future__ import annotations

from types import MappingProxyType

#: Generect list prices in USD, per row or per call (``docs/vendor_contract.md``).
GENERECT_USD = MappingProxyType(
    {
        "search_row": 0.02,
        "preview_row": 0.002,
        "email_find": 0.02,  # charged only when a valid email is found
        "email_validate": 0.005,  # charged for every address submitted
        "enrich_lead": 0.02,  # charged only when found
        "enrich_company": 0.02,  # charged only when found
        "phone_find": 0.40,
    }
)

#: Leedrush credits per submitted row (the vendor page does not say; the client settles with
#: what the API reports when it reports it).
LEEDRUSH_CREDITS_PER_ROW = 1.0

#: The sandbox's answers for arbitrary inputs: share of (name, domain) lookups with an address,
#: share of domains that are catch-all (the address is then not verified, and not charged), and
#: share of domains with a company profile. ``lead-assets sandbox`` can be started with others.
SANDBOX_EMAIL_FIND_RATE = 0.70
SANDBOX_CATCH_ALL_RATE = 0.08
SANDBOX_COMPANY_RATE = 0.85

#: The planner's hit rates before the warehouse has learned its own: what the sandbox answers in
#: the long run (an email is charged when found and the domain is not catch-all).
DEFAULT_EMAIL_FIND_HIT_RATE = round(SANDBOX_EMAIL_FIND_RATE * (1 - SANDBOX_CATCH_ALL_RATE), 3)
DEFAULT_COMPANY_HIT_RATE = SANDBOX_COMPANY_RATE
