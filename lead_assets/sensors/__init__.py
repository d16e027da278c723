"""Sensors: file drop, Generect counts, Leedrush batch status, credits."""
