"""Tests of the integration's issues/ package."""
