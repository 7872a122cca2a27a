"""Tests of the integration's conversations/ package."""
