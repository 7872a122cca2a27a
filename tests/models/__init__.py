"""Tests of the integration's models/ package."""
