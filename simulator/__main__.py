"""Entry point of `python -m simulator`; the help is in simulator/cli.py."""

from .cli import main

raise SystemExit(main())
