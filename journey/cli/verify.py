"""``journey verify``: every stored event of every aggregate checked against the audit chain
(issue 13, item 11; ``application.verification``).

Every aggregate the chain knows and every aggregate the event store holds is verified, a
batch at a time, with progress on stderr (``journey.cli.progress``: a bar on a terminal,
log lines elsewhere; none with ``--quiet``). The summary —
per kind the aggregates and events checked, those ok, failed and pending, then each
failure (kind, the channel's id, aggregate id, version, problem) — goes to stdout, as text
or ``--json``. Each failure is also logged as a warning and recorded beside the chain, so
the server's ``/metrics`` counts it. Exit code 0 when nothing failed, 1 when something did,
2 when the check could not run.
"""

from __future__ import annotations

import argparse
import logging
import sys

import orjson

from application.verification import StoreReport
from domain.registry import KINDS
from journey.bootstrap import Runtime
from journey.cli.progress import progress

logger = logging.getLogger(__name__)

COLUMNS = ("aggregates", "events_checked", "ok", "failed", "pending")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``verify`` to ``journey``'s subcommands."""
    verify = commands.add_parser(
        "verify",
        help="check every stored event against the audit chain",
        description="Verifies every aggregate the audit chain knows and every aggregate the"
        " event store holds (one stored but never chained is reported), with a progress bar"
        " on a terminal (log lines otherwise). The summary (per kind, then each failure)"
        " goes to stdout; each failure is logged and counted in /metrics. Exit code 0 when"
        " nothing failed, 1 when something did, 2 when the check could not run.",
    )
    verify.add_argument(
        "--kind",
        action="append",
        choices=[k.name for k in KINDS],
        help="only aggregates of this kind (may be given more than once)",
    )
    verify.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar; the summary's totals and failures only",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable summary")
    verify.set_defaults(run=run)


def run(runtime: Runtime, args: argparse.Namespace) -> int:
    verifier = runtime.auditor.verifier
    try:
        with progress("verify", "aggregates", enabled=not args.quiet) as report_progress:
            report = verifier.verify_store(args.kind, progress=report_progress)
    except Exception as error:  # a store down, a schema missing: one line, not a traceback
        logger.debug("journey verify stopped", exc_info=True)
        print(f"journey: verify could not finish: {error}", file=sys.stderr)
        return 2
    if not report.ok:
        logger.warning(
            "verify found %d failures among %d aggregates checked against the audit chain",
            report.total.failed,
            report.total.aggregates,
            extra={"failed": report.total.failed, "aggregates": report.total.aggregates},
        )
    if args.json:
        print(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(render(report, quiet=args.quiet))
    return 0 if report.ok else 1


def render(report: StoreReport, quiet: bool = False) -> str:
    """The summary as text: a table per kind (totals only when ``quiet``), then every
    failure listed."""
    lines = [f"{'kind':<14}" + "".join(f"{c.replace('_', ' '):>16}" for c in COLUMNS)]
    rows = [] if quiet else sorted(report.kinds.items())
    for name, tally in [*rows, ("total", report.total)]:
        lines.append(f"{name:<14}" + "".join(f"{getattr(tally, c):>16}" for c in COLUMNS))
    for failure in report.failures:
        lines.append(
            f"FAILED {failure.kind} {failure.ref or '-'} ({failure.aggregate_id})"
            f" version {failure.version} {failure.problem}: {failure.detail}"
        )
    unlisted = report.total.failed - len(report.failures)
    if unlisted:
        lines.append(f"... and {unlisted} more failures (logged, and in the read store)")
    verdict = "ok" if report.ok else f"{report.total.failed} failed"
    lines.append(f"journey verify: {report.total.aggregates} aggregates checked, {verdict}")
    return "\n".join(lines)
