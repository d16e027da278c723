"""Tests of what both vendor clients share (``lead_assets/clients/http_policy.py``,
``webhooks.py``) and the harness the vendor suites (``generect/``, ``leedrush/``) build on."""
