"""``journey import`` and ``journey simulate``: real data sets and simulated journeys into
the log, through the runtime's publisher (docs/data.md).

``register(commands)`` adds both subcommands to ``journey``'s parser; ``python -m
journey.cli.data`` runs them on their own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TextIO

import orjson

from adapters.collector import tune_collector
from adapters.sourcelog.base import LogPublisher
from adapters.topics import Topics
from journey.cli import boundary, target
from journey.cli.arguments import JourneyParser, UsageError, count, day, positive, share
from journey.cli.progress import Report, progress
from tools.importers import KINDS, ImportFailed, run_import
from tools.simulator import DEFAULT_START, SimConfig, SimSummary, simulate

logger = logging.getLogger(__name__)

BATCH = 2000
"""Records per ``publish_many`` call."""


def _print_json(value: object, stream: TextIO) -> None:
    stream.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


# -- journey import ---------------------------------------------------------------------------


def _import(args: argparse.Namespace) -> int:
    settings = boundary.read_settings()
    boundary.configure(settings, args.command)
    tune_collector()  # one long loop, as a worker's (adapters.collector): ≈ 19 % of its CPU
    try:
        with (
            target.publishing(settings, args) as where,
            progress(f"import {args.kind}") as report,
        ):
            outlet = target.outlet(settings, where.publisher)
            summary = run_import(outlet, args.kind, args.data, args.limit, report)
    except ImportFailed as error:
        print(f"journey: import {args.kind}: {error}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(summary.as_json(), sys.stdout)
    else:
        print(summary.render())
    return 0


# -- journey simulate -------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        bad_rate=args.bad_rate,
        start=args.start,
    )


def dry_run(config: SimConfig, out: TextIO) -> SimSummary:
    """The records as JSON lines on ``out`` (topic family, key, headers, value as text)."""
    summary = SimSummary(config)
    for record in simulate(config, summary):
        out.write(record.as_json_line().decode() + "\n")
    return summary


def publish(
    publisher: LogPublisher, topics: Topics, config: SimConfig, report: Report | None
) -> SimSummary:
    """The records through ``publisher``, ``BATCH`` at a time."""
    summary = SimSummary(config)
    records = simulate(config, summary)
    done = 0
    while batch := list(islice(records, BATCH)):
        publisher.publish_many([r.outgoing(topics) for r in batch])
        done += len(batch)
        if report is not None:
            report(done, summary.planned)
    return summary


def _simulate(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.dry_run:
        summary = dry_run(config, sys.stdout)
        print(summary.render(), file=sys.stderr)
        return 0
    settings = boundary.read_settings()
    boundary.configure(settings, args.command)
    # The only wall-clock reading: records dated after it would be refused as future ones.
    latest = datetime.now(UTC) + timedelta(seconds=settings.max_future_skew_s)
    if config.end_at > latest:
        raise UsageError(
            f"simulate: the window ends {config.end_at.isoformat()}, after now; its later"
            " records would be refused as lying in the future. Choose an earlier --start or"
            " fewer --days (or --dry-run)",
            "journey simulate",
        )
    if config.bad_rate and target.remote(args) is not None:
        raise UsageError(
            "simulate: --bad-rate is for the log; the service refuses bad records at the"
            " door (422), so over --url every batch holding one would fail",
            "journey simulate",
        )
    tune_collector()
    with target.publishing(settings, args) as where, progress("simulate") as report:
        summary = publish(where.publisher, where.topics, config, report)
    logger.info(
        "simulate published %d events and %d bad records",
        summary.events,
        summary.bad,
        extra={
            "customers": config.customers,
            "days": config.days,
            "seed": config.seed,
            "events": summary.events,
            "bad_records": summary.bad,
        },
    )
    if args.json:
        _print_json(summary.as_json(), sys.stdout)
    else:
        print(summary.render())
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``import`` and ``simulate`` to ``journey``'s subcommands."""
    imported = commands.add_parser(
        "import",
        help="publish a real data set as source events",
        description="Maps a public data set (docs/data.md) to source events, validates them"
        " like the API does and publishes them in event-time order to the configured log,"
        " or with --url through a running service. A progress bar on stderr, the summary on"
        " stdout (events published, rows skipped and steps dropped with their reasons). The"
        " ingest applies them.",
    )
    imported.add_argument("kind", choices=KINDS, help="which data set's mapping to use")
    imported.add_argument(
        "--data", type=Path, required=True, help="the data set's folder (or its CSV file)"
    )
    imported.add_argument(
        "--limit",
        type=count,
        default=None,
        metavar="N",
        help="the first N orders/complaints/incidents",
    )
    imported.add_argument("--json", action="store_true", help="the summary as JSON")
    target.add_options(imported, new_store=True)
    imported.set_defaults(run=_import, offline=True)

    simulated = commands.add_parser(
        "simulate",
        help="publish simulated multi-channel customer journeys",
        description="Simulated customers register, contact the chain on every channel,"
        " order, receive (some late), return, complain, are called back and answer surveys,"
        " at rates taken from the real data sets (docs/data.md, Simulator). The same"
        " arguments give the same records, byte for byte. --bad-rate adds deliberately bad"
        " records of named kinds, which the ingest must dead-letter.",
    )
    simulated.add_argument(
        "--customers", type=positive, required=True, metavar="N", help="simulated customers"
    )
    simulated.add_argument(
        "--days", type=positive, required=True, metavar="D", help="days of journeys"
    )
    simulated.add_argument(
        "--seed", type=int, required=True, metavar="S", help="the same seed, the same records"
    )
    simulated.add_argument(
        "--bad-rate", type=share, default=0.0, metavar="R", help="share of bad records (0..1)"
    )
    simulated.add_argument(
        "--start",
        type=day,
        default=DEFAULT_START,
        metavar="YYYY-MM-DD",
        help=f"the first day, UTC+8 (default {DEFAULT_START})",
    )
    simulated.add_argument(
        "--dry-run",
        action="store_true",
        help="write the records as JSON lines to stdout instead of publishing (summary on stderr)",
    )
    simulated.add_argument("--json", action="store_true", help="the summary as JSON")
    target.add_options(simulated, new_store=True)
    simulated.set_defaults(run=_simulate, offline=True)


def parser() -> argparse.ArgumentParser:
    root = JourneyParser(prog="journey", description=__doc__)
    register(root.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """The two commands on their own, through the boundary ``journey``'s commands run in."""
    return boundary.run(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
