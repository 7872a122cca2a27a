"""Tests of the integration's dispatch/ package."""
