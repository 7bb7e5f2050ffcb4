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
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import TextIO

import orjson
from pydantic import ValidationError

from journey.bootstrap import Runtime, build
from journey.settings import Settings
from tools.importers import KINDS, ImportFailed, TextProgress, run_import
from tools.simulator import DEFAULT_START, SimConfig, SimSummary, simulate

BATCH = 2000
"""Records per ``publish_many`` call."""


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a count: {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"not a share between 0 and 1: {text}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text}") from None


def _print_json(value: object, stream: TextIO) -> None:
    stream.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


# -- journey import ---------------------------------------------------------------------------


def _import(runtime: Runtime, args: argparse.Namespace) -> int:
    runtime.create_topics()
    progress = TextProgress(f"import {args.kind}")
    try:
        summary = run_import(runtime.outlet(), args.kind, args.data, args.limit, progress)
    except ImportFailed as error:
        print(f"journey import: {error}", file=sys.stderr)
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


def publish(runtime: Runtime, config: SimConfig, progress: TextProgress | None) -> SimSummary:
    """The records through ``runtime.publisher``, ``BATCH`` at a time."""
    runtime.create_topics()
    summary = SimSummary(config)
    records = simulate(config, summary)
    done = 0
    while batch := list(islice(records, BATCH)):
        runtime.publisher.publish_many([r.outgoing(runtime.topics) for r in batch])
        done += len(batch)
        if progress is not None:
            progress(done, summary.planned)
    return summary


def _simulate(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.dry_run:
        summary = dry_run(config, sys.stdout)
        print(summary.render(), file=sys.stderr)
        return 0
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"journey: invalid settings:\n{error}", file=sys.stderr)
        return 2
    # The only wall-clock reading: records dated after it would be refused as future ones.
    latest = datetime.now(UTC) + timedelta(seconds=settings.max_future_skew_s)
    if config.end_at > latest:
        print(
            f"journey simulate: the window ends {config.end_at.isoformat()}, after now; its"
            " later records would be refused as lying in the future. Choose an earlier"
            " --start or fewer --days (or --dry-run).",
            file=sys.stderr,
        )
        return 2
    runtime = build(settings)
    try:
        summary = publish(runtime, config, TextProgress("simulate"))
    finally:
        runtime.close()
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
        " like the API does and publishes them in event-time order through the runtime's"
        " publisher. A progress bar on stderr, the summary on stdout (events published,"
        " rows skipped and steps dropped with their reasons). The ingest applies them.",
    )
    imported.add_argument("kind", choices=KINDS)
    imported.add_argument(
        "--data", type=Path, required=True, help="the data set's folder (or its CSV file)"
    )
    imported.add_argument(
        "--limit",
        type=_count,
        default=None,
        metavar="N",
        help="the first N orders/complaints/incidents",
    )
    imported.add_argument("--json", action="store_true", help="the summary as JSON")
    imported.set_defaults(run=_import)

    simulated = commands.add_parser(
        "simulate",
        help="publish simulated multi-channel customer journeys",
        description="Simulated customers register, contact the chain on every channel,"
        " order, receive (some late), return, complain, are called back and answer surveys,"
        " at rates taken from the real data sets (docs/data.md, Simulator). The same"
        " arguments give the same records, byte for byte. --bad-rate adds deliberately bad"
        " records of named kinds, which the ingest must dead-letter.",
    )
    simulated.add_argument("--customers", type=_positive, required=True, metavar="N")
    simulated.add_argument("--days", type=_positive, required=True, metavar="D")
    simulated.add_argument("--seed", type=int, required=True, metavar="S")
    simulated.add_argument(
        "--bad-rate", type=_share, default=0.0, metavar="R", help="share of bad records (0..1)"
    )
    simulated.add_argument(
        "--start",
        type=_day,
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
    simulated.set_defaults(run=_simulate, offline=True)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="journey", description=__doc__)
    register(root.add_subparsers(dest="command", required=True))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """The two commands on their own, as ``journey.cli.main`` runs its commands."""
    args = parser().parse_args(argv)
    if getattr(args, "offline", False):
        return int(args.run(args))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"journey: invalid settings:\n{error}", file=sys.stderr)
        return 2
    runtime = build(settings)
    try:
        return int(args.run(runtime, args))
    finally:
        runtime.close()


if __name__ == "__main__":
    sys.exit(main())
