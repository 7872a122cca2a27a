"""Developer tooling: a local broker and a configured Home Assistant."""
