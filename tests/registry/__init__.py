"""Tests of the integration's registry/ package."""
