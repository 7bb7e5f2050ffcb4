"""``journey``: the command line. Each command builds the runtime from settings and runs
one thing."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from pydantic import ValidationError

from journey.bootstrap import Runtime, build
from journey.settings import Settings


def _serve(runtime: Runtime, args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_api

    settings = runtime.settings
    if settings.log_backend == "kafka":
        runtime.create_topics()
    api = create_api(runtime, workers=set(settings.workers))
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    print(f"journey: serving on http://{host}:{port} (docs at /docs)", flush=True)
    uvicorn.run(api, host=host, port=port, log_level="info")
    return 0


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
    print("journey: projecting the complaint ledger", flush=True)
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


def _catalog(_: argparse.Namespace) -> int:
    from journey.catalog_doc import render

    print(render())
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
    commands.add_parser("timer", help="breach SLA deadlines the watermark passed").set_defaults(
        run=_timer
    )
    commands.add_parser("catalog", help="print docs/events.md").set_defaults(
        run=_catalog, offline=True
    )
    topics = commands.add_parser("topics", help="manage topics")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True)
    topic_commands.add_parser("create", help="create missing topics").set_defaults(run=_topics)
    return root


def main(argv: Sequence[str] | None = None) -> int:
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
