"""What each ``journey`` command does, given the runtime built from settings."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from collections.abc import Callable

import orjson

from adapters.collector import freeze_start_up
from adapters.security.startup import NoAdminKey, keys_at_start
from adapters.sourcelog.base import Coordinates, LogPublisher
from application.deadletter_query import DeadLetterFilter, InvalidCursor
from consumers.deadletters import (
    replay,
    replayed,
    select,
)
from journey.bootstrap import Runtime
from journey.cli import target
from journey.cli.children import child_workers, end_with_parent
from journey.cli.metrics_server import serve_metrics
from journey.cli.progress import progress


def serve(runtime: Runtime, args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_api

    settings = runtime.settings
    embedded = settings.log_backend == "embedded" and settings.store_backend == "sqlite"
    try:
        issued = keys_at_start(runtime.api_keys, embedded=embedded)
    except NoAdminKey as error:
        print(f"journey: refusing to serve: {error}", file=sys.stderr)
        return 2
    if issued:
        print("journey: development API keys, one per role (shown this once only):")
        for key in issued:
            print(f"journey:   {key.role:<8} {key.secret_text}")
    if settings.log_backend == "kafka":
        runtime.create_topics()
    children = settings.workers & settings.worker_processes
    api = create_api(runtime, workers=settings.workers - children)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    print(f"journey: serving on http://{host}:{port} (console at /, API docs at /docs)", flush=True)
    # What start-up built (the runtime, the app, its routes and models) lives as long as
    # the process: out of the cyclic collector's sight, a full collection scans only what
    # requests made (≈ 2 ms instead of ≈ 90 ms, which was the p99 of a single-event publish).
    freeze_start_up()
    with child_workers(children, projection_shares=settings.projection_processes):
        # Our logging setup writes uvicorn's lines too; the access lines are our middleware's.
        uvicorn.run(api, host=host, port=port, log_config=None, access_log=False)
    return 0


def keys_create(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        key = runtime.api_keys.create(args.role, args.label, args.source)
    except ValueError as error:
        print(f"journey: {error}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(
            {
                "key_id": key.key_id,
                "role": key.role,
                "label": key.label,
                "source": key.source,
                "key": key.secret_text,
            }
        )
        return 0
    named = f"  source {key.source}" if key.source else ""
    print(f"key_id {key.key_id}  role {key.role}{named}\n{key.secret_text}")
    print("journey: the key is shown this once only; only its hash is stored", file=sys.stderr)
    return 0


def keys_list(runtime: Runtime, args: argparse.Namespace) -> int:
    keys = runtime.api_keys.list()
    if args.json:
        _print_json([{**vars(k), "active": k.active} for k in keys])
        return 0
    print(f"{'key_id':<18} {'role':<8} {'created_at':<33} {'revoked_at':<33} label (source)")
    for k in keys:
        source = f" (source {k.source})" if k.source else ""
        print(
            f"{k.key_id:<18} {k.role:<8} {k.created_at:<33} {k.revoked_at or '-':<33}"
            f" {k.label or ''}{source}"
        )
    return 0


def keys_revoke(runtime: Runtime, args: argparse.Namespace) -> int:
    if runtime.api_keys.revoke(args.key_id):
        print(f"journey: key {args.key_id} revoked")
        return 0
    print(f"journey: no active key {args.key_id}", file=sys.stderr)
    return 1


SIGNAL_CHECK_S = 0.1
"""How often the main thread of a worker looks whether it was signalled."""


def _noting_signals() -> list[int]:
    """From now on SIGTERM and SIGINT are only noted, in the list returned (for
    ``_until_signalled``): no longer the default end with -15."""
    signalled: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _: signalled.append(number))
    return signalled


def _until_signalled(loop: Callable[[threading.Event], None], signalled: list[int]) -> None:
    """Run ``loop`` in a thread until it ends, or until a signal noted in ``signalled``
    (``_noting_signals``) stops it.

    The signal handler only notes the signal; the main thread sets the stop event. A
    handler that set the event itself could run while the main thread held that event's
    lock (inside ``Event.wait``) and wait for it forever: a worker hung so on SIGTERM,
    and one ``journey serve`` had started lived on as an orphan after serve died."""
    stop = threading.Event()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            loop(stop)
        except BaseException as error:  # raised again in the main thread, as before
            failed.append(error)

    worker = threading.Thread(target=run, name="worker")
    worker.start()
    while worker.is_alive():
        if signalled:
            stop.set()
        worker.join(SIGNAL_CHECK_S)
    if failed:
        raise failed[0]


def _worker(runtime: Runtime, name: str, started: str) -> int:
    """Run one supervised worker until signalled, with ``/metrics`` if a port is set. The
    ``started`` line is printed once a signal would stop the worker cleanly: whoever waits
    for it may signal at once."""
    end_with_parent()
    signalled = _noting_signals()
    freeze_start_up()  # the runtime lives as long as the process (adapters.collector)
    stop_metrics = serve_metrics(runtime)
    print(f"journey: {started}", flush=True)
    try:
        _until_signalled(runtime.supervised(name, {}).run, signalled)
    finally:
        stop_metrics()
    return 0


def ingest(runtime: Runtime, _: argparse.Namespace) -> int:
    runtime.create_topics()
    return _worker(runtime, "ingest", f"ingesting {', '.join(runtime.topics.ingress)}")


def project(runtime: Runtime, _: argparse.Namespace) -> int:
    names = ", ".join(runtime.projection_runner.names)
    return _worker(runtime, "projections", f"projecting {names}")


def timer(runtime: Runtime, _: argparse.Namespace) -> int:
    return _worker(runtime, "timer", f"SLA timer on {runtime.settings.clock}")


def topics(runtime: Runtime, args: argparse.Namespace) -> int:
    created = runtime.create_topics()
    for spec in runtime.topics.specs():
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name}\t{spec.partitions} partitions\t{state}")
    return 0


def _print_json(value: object) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def status(runtime: Runtime, args: argparse.Namespace) -> int:
    status = runtime.status()
    if args.json:
        _print_json(status.as_json())
        return 0
    settings = runtime.settings
    log = settings.kafka_bootstrap if settings.log_backend == "kafka" else settings.data_dir
    store = (
        f"{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_db}"
        f" schema {settings.postgres_schema}"
        if settings.store_backend == "postgres"
        else settings.data_dir
    )
    print(f"log: {settings.log_backend} {log}\nstore: {settings.store_backend} {store}\n")
    print(f"{'partition':<40} {'log end':>10} {'stored':>10} {'lag':>8}")
    for p in status.partitions:
        warning = "  store ahead of the log: topic recreated?" if p.ahead_of_log else ""
        print(
            f"{p.partition!s:<40} {p.log_end_offset:>10} {p.stored_offset:>10} {p.lag:>8}{warning}"
        )
    print(f"{'ingest lag':<40} {'':>10} {'':>10} {status.ingest_lag:>8}")
    print(f"\ndead letters: {status.dead_letters} on {runtime.topics.dead_letters}")
    print(f"parked events: {status.parked} (waiting for what they refer to)")
    verified = sum(v.verified for v in status.verifications)
    failed = sum(v.failed for v in status.verifications)
    print(f"audit verifications: {verified}, {failed} failed (journey verify checks all)")
    print(
        f"overdue deadlines: {status.overdue} (past due, not breached yet;"
        f" {status.timer_backlog} past the allowed lateness, for the timer to breach)"
    )
    breached = ", ".join(f"{rule} {n}" for rule, n in status.breaches.items() if n)
    total = sum(status.breaches.values())
    print(f"breached deadlines: {total}" + (f" ({breached})" if breached else "") + "\n")
    print(f"{'projection':<40} {'position':>10} {'head':>10} {'lag':>8}")
    for projection in status.projections:
        print(
            f"{projection.name:<40} {projection.position:>10} {status.notifications:>10}"
            f" {projection.lag:>8}"
            + ("  (query indexes deferred until caught up)" if projection.indexes_deferred else "")
        )
    held = {name: count for name, count in status.quarantined.items() if count}
    if held:
        print("\nquarantined (stored events a read model could not apply; a rebuild retries):")
        for name, count in held.items():
            print(f"  {name:<38} {count:>10}")
    return 0


def deadletters_list(runtime: Runtime, args: argparse.Namespace) -> int:
    where = DeadLetterFilter(
        topic=args.topic,
        type=args.type,
        customer=args.customer,
        rule=args.rule,
        published_by=args.published_by,
        since=args.since,
        until=args.until,
    )
    try:
        page = runtime.dead_letters(where, args.cursor, args.limit)
    except InvalidCursor as error:
        print(f"journey: {error}", file=sys.stderr)
        return 2
    erased = runtime.personal.is_erased
    items = [letter.as_json(is_erased=erased) for letter in page.items]
    if args.json:
        _print_json({"count": page.written, "dead_letters": items, "next_cursor": page.next_cursor})
        return 0
    print(
        f"{page.written} dead letters written to {runtime.topics.dead_letters}, {len(items)} shown"
    )
    for item in items:
        print(
            f"\n{item['source'] or '(unknown source)'}  event_id {item['event_id'] or '-'}"
            f"  type {item['type'] or '-'}  (letter {item['dead_letter']}"
            f" at {item['dead_lettered_at']})"
        )
        print(f"  reason: {item['reason']}")
        cut = f" ... ({item['original_bytes']} bytes)" if item["truncated"] else ""
        print(f"  original ({item['original_shown']}): {item['original']}{cut}")
    if page.next_cursor:
        print(f"\nmore: --cursor {page.next_cursor}")
    return 0


def deadletters_replay(runtime: Runtime, args: argparse.Namespace) -> int:
    sources: list[Coordinates] = args.source or []
    remote = target.remote(args)
    http = target.http_publisher(runtime.settings, *remote) if remote is not None else None
    publisher: LogPublisher = http or runtime.publisher
    target.announce(http.describe() if http else target.log_description(runtime.settings))
    try:
        chosen = select(runtime.all_dead_letters(), sources=sources, all_from=args.all_from)
        placed = replay(chosen, publisher, runtime.topics.ingress)
    except (LookupError, ValueError) as error:
        print(f"journey: {error}", file=sys.stderr)
        return 1
    finally:
        if http is not None:
            http.close()
    done = replayed(chosen, placed)
    if args.json:
        _print_json({"replayed": done})
        return 0
    for item in done:
        print(f"{item['source']} -> {item['replayed_to']}\tevent_id {item['event_id'] or '-'}")
    print(f"{len(done)} dead letters replayed")
    return 0


def catalog(_: argparse.Namespace) -> int:
    from contracts.catalogue import render

    print(render())
    return 0


def rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    from projections.rebuild import Progress, rebuild, rebuildable

    by_name = rebuildable(runtime.read_models)
    if args.read_model not in by_name:
        print(
            f"journey: no read model {args.read_model!r}; one of {', '.join(by_name)}",
            file=sys.stderr,
        )
        return 2

    with progress(f"rebuild {args.read_model}", "notifications") as report:

        def show(step: Progress) -> None:
            report(step.position, step.head)

        result = rebuild(
            by_name[args.read_model],
            runtime.projection_runner.reader,
            progress=show,
            quarantine=runtime.read_models.quarantine,
        )
    print(
        orjson.dumps(
            {
                "read_model": result.read_model,
                "position": result.position,
                "applied": result.applied,
                "seconds": round(result.elapsed_s, 3),
                "events_per_s": round(result.rate),
            }
        ).decode()
    )
    return 0


def erase(runtime: Runtime, args: argparse.Namespace) -> int:
    # A customer not found (NotFound, a domain error) fails at the boundary: one line, 1.
    receipt = runtime.erase_customer(
        args.customer_id, requested_by=f"cli:{getpass.getuser()}", reason=args.reason
    )
    summary = {
        "customer_id": receipt.customer_id,
        "event_id": receipt.event_id,
        "position": str(receipt.position),
        "erased_at": receipt.erased_at.isoformat(),
        "had_key": receipt.had_key,
    }
    if args.json:
        _print_json(summary)
    else:
        print(
            f"erased {receipt.customer_id} at {summary['erased_at']}"
            f" (request {receipt.event_id} logged at {receipt.position})"
        )
    return 0
