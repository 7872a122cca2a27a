"""Home Assistant custom integrations (a package so tests import ours first)."""
