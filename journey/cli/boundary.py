"""The one error boundary of ``journey``: parse, read the settings, set up logging, build the
runtime, run the command — and whatever goes wrong, say it in one line.

Every error ends as ``journey: <what went wrong>`` on stderr and an exit code:

- 2, usage: the command line (:class:`UsageError`, raised by the parser for an unknown
  command, a missing or bad argument), the settings (``JOURNEY_*`` values the settings
  refuse), no master key where one is required;
- 1, failed: a domain error (a customer not found, ...), a service refusing what was
  published over ``--url`` (``PublishRefused``: a wrong key, an invalid event), the log, a
  service or a store not reachable (``LogUnavailable`` naming the Kafka address or the
  URL, PostgreSQL or SQLite errors), anything else a command raised (its traceback is
  logged at DEBUG: ``JOURNEY_LOG_LEVEL=DEBUG``);
- 130: interrupted (Ctrl-C) before the command set up its own handling.

When whoever reads stdout stops reading (``journey status --json | head``), the command
ends quietly with 1, as Python's documentation recommends ("Note on SIGPIPE"): stdout is
pointed at ``/dev/null`` so that the interpreter's last flush does not fail again.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from adapters.failures import is_infrastructure
from adapters.http_publisher import PublishRefused
from adapters.logformat import choose_format, configure_logging
from adapters.privacy.master import MasterKeyMissing
from adapters.sourcelog.base import LogUnavailable
from domain.errors import DomainError
from journey.bootstrap import build
from journey.cli.arguments import UsageError
from journey.settings import Settings

logger = logging.getLogger("journey.cli")

FAILED = 1
USAGE = 2
INTERRUPTED = 130

LONG_RUNNING = frozenset({"serve", "ingest", "project", "timer"})
"""Commands that run until stopped: the Kafka client's own warnings are worth their lines
there; a one-shot command's own error says what failed."""


def one_line(text: str) -> str:
    """``text`` with its lines joined, runs of whitespace made one space."""
    return " ".join(text.split())


def settings_problem(error: ValidationError) -> str:
    """What the settings refused, each problem named by its environment variable."""
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        name = f"JOURNEY_{where.upper()}" if where else "settings"
        problems.append(f"{name}: {item['msg']}")
    return "invalid settings: " + "; ".join(problems)


def read_settings() -> Settings:
    return Settings()


def configure(settings: Settings | None, command: str | None) -> None:
    """Logging as the settings say (before settings exist: text or JSON, INFO)."""
    setting = settings.log_format if settings is not None else "auto"
    level = settings.log_level if settings is not None else "INFO"
    quiet = command not in LONG_RUNNING and level != "DEBUG"
    configure_logging(
        choose_format(setting), level, libraries=logging.CRITICAL if quiet else logging.WARNING
    )


def dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command: offline ones with the arguments alone, the others with a
    runtime built from the settings (closed afterwards)."""
    if getattr(args, "offline", False):
        configure(None, args.command)
        return int(args.run(args))
    settings = read_settings()
    configure(settings, args.command)
    runtime = build(settings)
    try:
        return int(args.run(runtime, args))
    finally:
        runtime.close()


def failure(error: BaseException) -> tuple[str, int]:
    """The line to print for ``error`` and the exit code."""
    if isinstance(error, UsageError):
        return one_line(str(error)), USAGE
    if isinstance(error, ValidationError):
        return one_line(settings_problem(error)), USAGE
    if isinstance(error, MasterKeyMissing):
        return one_line(str(error)), USAGE
    if isinstance(error, DomainError | LogUnavailable | PublishRefused):
        return one_line(str(error)), FAILED
    if is_infrastructure(error):
        return one_line(f"{type(error).__name__}: {error}"), FAILED
    logger.debug("journey stopped on an unexpected error", exc_info=error)
    return (
        one_line(f"unexpected {type(error).__name__}: {error}")
        + " (JOURNEY_LOG_LEVEL=DEBUG shows where)",
        FAILED,
    )


def _stdout_closed() -> None:
    """Python's recommended handling of a reader that went away: no more writes to it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):  # stdout is not a file (a test's capture)
        pass
    finally:
        os.close(devnull)


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """``journey <argv>`` parsed by ``parser`` and run; the exit code."""
    try:
        args = parser.parse_args(argv)
        code = dispatch(args)
        sys.stdout.flush()  # inside the boundary: a reader gone shows here, not at exit
        return code
    except BrokenPipeError:
        _stdout_closed()
        return FAILED
    except KeyboardInterrupt:
        print("journey: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        message, code = failure(error)
        print(f"journey: {message}", file=sys.stderr)
        return code
