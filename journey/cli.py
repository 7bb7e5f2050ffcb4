"""``journey``: the command line. Each command builds the runtime from settings and runs
one thing."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from collections.abc import Sequence

import orjson
from pydantic import ValidationError

from adapters.logformat import configure_logging
from adapters.privacy.master import MasterKeyMissing
from adapters.security import ROLES
from adapters.security.startup import NoAdminKey, keys_at_start
from adapters.sourcelog.base import Coordinates
from consumers.deadletters import (
    replay,
    select,
)
from domain.errors import NotFound
from journey import cli_data
from journey.bootstrap import Runtime, build
from journey.settings import Settings


def _serve(runtime: Runtime, args: argparse.Namespace) -> int:
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
    api = create_api(runtime, workers=set(settings.workers))
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    print(f"journey: serving on http://{host}:{port} (docs at /docs)", flush=True)
    # Our logging setup writes uvicorn's lines too; the access lines are our middleware's.
    uvicorn.run(api, host=host, port=port, log_config=None, access_log=False)
    return 0


def _keys_create(runtime: Runtime, args: argparse.Namespace) -> int:
    key = runtime.api_keys.create(args.role, args.label)
    if args.json:
        _print_json(
            {"key_id": key.key_id, "role": key.role, "label": key.label, "key": key.secret_text}
        )
        return 0
    print(f"key_id {key.key_id}  role {key.role}\n{key.secret_text}")
    print("journey: the key is shown this once only; only its hash is stored", file=sys.stderr)
    return 0


def _keys_list(runtime: Runtime, args: argparse.Namespace) -> int:
    keys = runtime.api_keys.list()
    if args.json:
        _print_json([{**vars(k), "active": k.active} for k in keys])
        return 0
    print(f"{'key_id':<18} {'role':<8} {'created_at':<33} {'revoked_at':<33} label")
    for k in keys:
        print(
            f"{k.key_id:<18} {k.role:<8} {k.created_at:<33} {k.revoked_at or '-':<33}"
            f" {k.label or ''}"
        )
    return 0


def _keys_revoke(runtime: Runtime, args: argparse.Namespace) -> int:
    if runtime.api_keys.revoke(args.key_id):
        print(f"journey: key {args.key_id} revoked")
        return 0
    print(f"journey: no active key {args.key_id}", file=sys.stderr)
    return 1


def _until_signalled() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _ingest(runtime: Runtime, _: argparse.Namespace) -> int:
    runtime.create_topics()
    worker = runtime.ingest_worker()
    print(f"journey: ingesting {', '.join(runtime.topics.ingress)}", flush=True)
    worker.run(_until_signalled())
    return 0


def _project(runtime: Runtime, _: argparse.Namespace) -> int:
    names = ", ".join(p.name for p in runtime.projections)
    print(f"journey: projecting {names}", flush=True)
    runtime.projection_runner.run(_until_signalled())
    return 0


def _timer(runtime: Runtime, _: argparse.Namespace) -> int:
    print(f"journey: SLA timer on {runtime.settings.clock}", flush=True)
    runtime.clock_timer().run(_until_signalled())
    return 0


def _topics(runtime: Runtime, args: argparse.Namespace) -> int:
    created = runtime.create_topics()
    for spec in runtime.topics.specs():
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name}\t{spec.partitions} partitions\t{state}")
    return 0


def _print_json(value: object) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def _status(runtime: Runtime, args: argparse.Namespace) -> int:
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
    print(f"\ndead letters: {status.dead_letters} on {runtime.topics.dead_letters}\n")
    print(f"{'projection':<40} {'position':>10} {'head':>10} {'lag':>8}")
    for projection in status.projections:
        print(
            f"{projection.name:<40} {projection.position:>10} {status.notifications:>10}"
            f" {projection.lag:>8}"
        )
    return 0


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a count: {text}")
    return value


def _deadletters_list(runtime: Runtime, args: argparse.Namespace) -> int:
    letters = runtime.dead_letters()
    shown = letters if args.limit is None else letters[: args.limit]
    erased = runtime.personal.is_erased
    items = [letter.as_json(erased=erased(letter.customer_id)) for letter in shown]
    if args.json:
        _print_json({"count": len(letters), "dead_letters": items})
        return 0
    print(f"{len(letters)} dead letters on {runtime.topics.dead_letters}, {len(shown)} shown")
    for item in items:
        print(
            f"\n{item['source'] or '(unknown source)'}  event_id {item['event_id'] or '-'}"
            f"  type {item['type'] or '-'}  (letter {item['dead_letter']})"
        )
        print(f"  reason: {item['reason']}")
        cut = f" ... ({item['original_bytes']} bytes)" if item["truncated"] else ""
        print(f"  original: {item['original']}{cut}")
    return 0


def _deadletters_replay(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        sources = [Coordinates.parse(text) for text in args.source or ()]
    except ValueError as error:
        print(f"journey: {error}", file=sys.stderr)
        return 2
    try:
        chosen = select(runtime.dead_letters(), sources=sources, all_from=args.all_from)
        placed = replay(chosen, runtime.publisher, runtime.topics.ingress)
    except (LookupError, ValueError) as error:
        print(f"journey: {error}", file=sys.stderr)
        return 1
    replayed = [
        {
            "source": letter.as_json()["source"],
            "event_id": letter.event_id,
            "type": letter.type,
            "replayed_to": str(c),
        }
        for letter, c in zip(chosen, placed, strict=True)
    ]
    if args.json:
        _print_json({"replayed": replayed})
        return 0
    for item in replayed:
        print(f"{item['source']} -> {item['replayed_to']}\tevent_id {item['event_id'] or '-'}")
    print(f"{len(replayed)} dead letters replayed")
    return 0


def _catalog(_: argparse.Namespace) -> int:
    from contracts.catalogue import render

    print(render())
    return 0


def _rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    from projections.rebuild import Progress, rebuild, rebuildable

    by_name = rebuildable(runtime.read_models)
    if args.read_model not in by_name:
        print(
            f"journey: no read model {args.read_model!r}; one of {', '.join(by_name)}",
            file=sys.stderr,
        )
        return 2

    def show(progress: Progress) -> None:
        done = "swapped in" if progress.swapped else "building"
        print(
            f"journey: {progress.read_model} {done}: notification {progress.position}"
            f" of {progress.head}, {progress.applied} applied, {progress.rate:,.0f} events/s",
            file=sys.stderr,
            flush=True,
        )

    result = rebuild(by_name[args.read_model], runtime.projection_runner.reader, progress=show)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="journey", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="HTTP API (and, by settings, the workers)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(run=_serve)
    commands.add_parser("ingest", help="consume the ingress topics").set_defaults(run=_ingest)
    commands.add_parser("project", help="keep the read models up to date").set_defaults(
        run=_project
    )
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild a read model from zero while the current one serves, then swap",
        description="Builds a fresh copy of the read model from the start of the event"
        " store's notification log (strict: an event this build cannot decode stops it and"
        " the current copy stays), then swaps it in atomically. Progress on stderr, a JSON"
        " summary on stdout.",
    )
    rebuild.add_argument("read_model", help="e.g. complaint_ledger")
    rebuild.set_defaults(run=_rebuild)
    commands.add_parser("timer", help="breach SLA deadlines the watermark passed").set_defaults(
        run=_timer
    )
    commands.add_parser("catalog", help="print docs/events.md").set_defaults(
        run=_catalog, offline=True
    )
    topics = commands.add_parser("topics", help="manage topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True)
    topic_commands.add_parser("create", help="create missing topics").set_defaults(run=_topics)

    status = commands.add_parser(
        "status",
        help="lag of every ingress partition and read model, and the dead-letter count",
        description="Per ingress partition: the log's end offset, the next offset stored with"
        " the events, and the lag between them; the records on the dead-letter topic; each"
        " projection's position and lag. Read from the log and the store, so it answers"
        " from any process.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=_status)

    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    key_create = key_commands.add_parser(
        "create",
        help="a new API key for a role, printed once",
        description="Creates a key bound to one role and prints it once; only its SHA-256"
        " is stored.",
    )
    key_create.add_argument("--role", required=True, choices=ROLES)
    key_create.add_argument("--label", default=None, help="who or what holds the key")
    key_create.add_argument("--json", action="store_true", help="machine-readable output")
    key_create.set_defaults(run=_keys_create)
    key_list = key_commands.add_parser("list", help="every key, without secrets")
    key_list.add_argument("--json", action="store_true", help="machine-readable output")
    key_list.set_defaults(run=_keys_list)
    key_revoke = key_commands.add_parser("revoke", help="refuse a key from now on")
    key_revoke.add_argument("key_id")
    key_revoke.set_defaults(run=_keys_revoke)

    deadletters = commands.add_parser("deadletters", help="list and replay refused records")
    dl_commands = deadletters.add_subparsers(dest="deadletters_command", required=True)
    dl_list = dl_commands.add_parser(
        "list",
        help="the dead letters, read from the beginning of the topic",
        description="Reads the dead-letter topic from the beginning with a consumer group of"
        " its own (the ingest group is not touched). Personal fields are masked and the"
        " original bytes cut for display.",
    )
    dl_list.add_argument("--limit", type=_count, default=None, metavar="N", help="show N at most")
    dl_list.add_argument("--json", action="store_true", help="machine-readable output")
    dl_list.set_defaults(run=_deadletters_list)
    dl_replay = dl_commands.add_parser(
        "replay",
        help="re-publish chosen dead letters to their source topic",
        description="Re-publishes the chosen dead letters' original bytes to their source"
        " topic with their key, so they keep their event_id, and prints where each landed."
        " A replayed letter that is still invalid is simply dead-lettered again (with its"
        " new coordinates); one whose event_id was applied meanwhile has no effect.",
    )
    chosen = dl_replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--source",
        nargs="+",
        action="extend",
        metavar="TOPIC:PARTITION:OFFSET",
        help="the source coordinates of the letters to replay",
    )
    chosen.add_argument(
        "--all-from", metavar="TOPIC", help="every letter whose source is this topic"
    )
    dl_replay.add_argument("--json", action="store_true", help="machine-readable output")
    dl_replay.set_defaults(run=_deadletters_replay)
    erase = commands.add_parser(
        "erase",
        help="erase a customer's personal data (deletes their key)",
        description="Logs a customer.erasure_requested event, then deletes the customer's key:"
        " their personal fields become unreadable everywhere (shown as 'erased'), while"
        " their cases, orders and KPI counts stay. Cannot be undone.",
    )
    erase.add_argument("customer_id")
    erase.add_argument("--reason", help="recorded with the erasure request")
    erase.add_argument("--json", action="store_true", help="machine-readable output")
    erase.set_defaults(run=_erase)
    cli_data.register(commands)
    return root


def _erase(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        receipt = runtime.erase_customer(
            args.customer_id, requested_by=f"cli:{getpass.getuser()}", reason=args.reason
        )
    except NotFound as error:
        print(f"journey: {error}", file=sys.stderr)
        return 1
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "offline", False):
        return int(args.run(args))
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"journey: invalid settings:\n{error}", file=sys.stderr)
        return 2
    long_running = args.command in {"serve", "ingest", "project", "timer"}
    log_format = settings.log_format or ("json" if long_running else "text")
    configure_logging(log_format, settings.log_level)
    try:
        runtime = build(settings)
    except MasterKeyMissing as error:
        print(f"journey: {error}", file=sys.stderr)
        return 2
    try:
        return int(args.run(runtime, args))
    finally:
        runtime.close()


if __name__ == "__main__":
    sys.exit(main())
