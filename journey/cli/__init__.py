"""The ``journey`` command line: ``entry`` parses, ``commands`` runs, ``data`` imports and
simulates."""

from journey.cli.entry import main

__all__ = ["main"]
