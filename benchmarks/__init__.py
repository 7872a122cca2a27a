"""Benchmarks of the hub's hot paths (scripts/benchmark); not part of the tests."""
