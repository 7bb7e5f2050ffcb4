"""The ``journey`` parser's own class and the types of its arguments.

A value the parser refuses is a usage error: :class:`JourneyParser` raises
:class:`UsageError` (one line, exit code 2 at the boundary, ``journey.cli.boundary``)
instead of printing the usage block and exiting itself. Each type below turns a bad value
into that error, naming the argument and what was expected.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import NoReturn

from adapters.sourcelog.base import Coordinates


class UsageError(Exception):
    """The command line is wrong: what is wrong and where to read how to call it."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog

    def __str__(self) -> str:
        return f"{self.args[0]} (see '{self.prog} --help')"


class JourneyParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are raised, not printed and exited on; its
    subcommands' parsers are of this class too (``add_subparsers`` uses the parent's)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def count(text: str) -> int:
    """A whole number, zero or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a count (0 or more): {text}")
    return value


def positive(text: str) -> int:
    """A whole number, one or more."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def share(text: str) -> float:
    """A number between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"not a share between 0 and 1: {text}")
    return value


def day(text: str) -> date:
    """A date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def moment(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time with a UTC offset: {text}")
    return value


def coordinates(text: str) -> Coordinates:
    """A record's place in the log, ``topic:partition:offset``."""
    try:
        return Coordinates.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not topic:partition:offset (e.g. journey.contacts:3:1207): {text!r}"
        ) from None
