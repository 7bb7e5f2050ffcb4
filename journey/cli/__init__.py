"""The ``journey`` command line: ``entry`` parses, ``commands`` runs, ``data`` imports and
simulates, ``verify`` checks the whole store against the audit chain."""

from journey.cli.entry import main

__all__ = ["main"]
