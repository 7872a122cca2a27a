"""Tests of the integration's protocol/ package."""
