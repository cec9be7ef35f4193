"""Kizuna (絆): a fan community a brand runs for its own fans."""

__version__ = "0.1.0"
