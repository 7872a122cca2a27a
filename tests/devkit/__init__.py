"""Tests of the developer tooling: devkit/, scripts/bootstrap and the devcontainer."""
