"""Tests of the integration's fleet/ package."""
