"""Subcommands of the ``lead-assets`` console script, one module each."""
