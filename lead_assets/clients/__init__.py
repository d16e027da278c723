"""HTTP clients for the vendor APIs (Generect, Leedrush).

Clients know httpx and the contracts in ``docs/vendor_contract.md``; they know nothing
about Dagster or the warehouse. Every billable call goes through a :class:`SpendHook`.
"""
