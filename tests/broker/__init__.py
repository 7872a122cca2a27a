"""Tests of the integration's broker/ package."""
