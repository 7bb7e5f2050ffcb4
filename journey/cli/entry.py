"""``journey``: the command line. Each command builds the runtime from settings and runs
one thing (``journey.cli.commands``). Exit codes: 0 done, 1 failed, 2 usage (a bad
argument or setting); every error is one line on stderr (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from adapters.security import ROLES
from journey.cli import boundary, commands, data, target, verify
from journey.cli.arguments import JourneyParser, coordinates, count, moment


def port(text: str) -> int:
    """A TCP port, 0 to 65535."""
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0..65535): {text}")
    return value


def parser() -> argparse.ArgumentParser:
    root = JourneyParser(prog="journey", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="HTTP API (and, by settings, the workers)")
    serve.add_argument(
        "--host", default=None, help="the address to listen on (default JOURNEY_HOST)"
    )
    serve.add_argument(
        "--port", type=port, default=None, help="the port to listen on (default JOURNEY_PORT)"
    )
    serve.set_defaults(run=commands.serve)
    sub.add_parser("ingest", help="consume the ingress topics").set_defaults(run=commands.ingest)
    sub.add_parser("project", help="keep the read models up to date").set_defaults(
        run=commands.project
    )
    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild a read model from zero while the current one serves, then swap",
        description="Builds a fresh copy of the read model from the start of the event"
        " store's notification log (strict: an event this build cannot decode stops it and"
        " the current copy stays), then swaps it in atomically. Progress on stderr, a JSON"
        " summary on stdout.",
    )
    rebuild.add_argument("read_model", help="the read model's name, e.g. complaint_ledger")
    rebuild.set_defaults(run=commands.rebuild)
    sub.add_parser("timer", help="breach SLA deadlines the watermark passed").set_defaults(
        run=commands.timer
    )
    sub.add_parser("catalog", help="print docs/events.md").set_defaults(
        run=commands.catalog, offline=True
    )
    topics = sub.add_parser("topics", help="manage topics")
    topic_commands = topics.add_subparsers(
        dest="topics_command", required=True, metavar="SUBCOMMAND"
    )
    create_topics = topic_commands.add_parser("create", help="create missing topics")
    create_topics.set_defaults(run=commands.topics)

    status = sub.add_parser(
        "status",
        help="lag of every ingress partition and read model, and the dead-letter count",
        description="Per ingress partition: the log's end offset, the next offset stored with"
        " the events, and the lag between them; the records on the dead-letter topic; each"
        " projection's position and lag. Read from the log and the store, so it answers"
        " from any process.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=commands.status)

    keys = sub.add_parser("keys", help="API keys: create, list, revoke")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="SUBCOMMAND")
    key_create = key_commands.add_parser(
        "create",
        help="a new API key for a role, printed once",
        description="Creates a key bound to one role and prints it once; only its SHA-256"
        " is stored.",
    )
    key_create.add_argument("--role", required=True, choices=ROLES, help="what the key may do")
    key_create.add_argument("--label", default=None, help="who or what holds the key")
    key_create.add_argument(
        "--source",
        default=None,
        help="channel keys: the publishing system (the events' source) the key publishes as"
        " and whose dead letters it lists (GET /v1/deadletters)",
    )
    key_create.add_argument("--json", action="store_true", help="machine-readable output")
    key_create.set_defaults(run=commands.keys_create)
    key_list = key_commands.add_parser("list", help="every key, without secrets")
    key_list.add_argument("--json", action="store_true", help="machine-readable output")
    key_list.set_defaults(run=commands.keys_list)
    key_revoke = key_commands.add_parser("revoke", help="refuse a key from now on")
    key_revoke.add_argument("key_id", help="the key's id, as `journey keys list` shows it")
    key_revoke.set_defaults(run=commands.keys_revoke)

    deadletters = sub.add_parser("deadletters", help="list and replay refused records")
    dl_commands = deadletters.add_subparsers(
        dest="deadletters_command", required=True, metavar="SUBCOMMAND"
    )
    dl_list = dl_commands.add_parser(
        "list",
        help="the dead letters, oldest first, filtered, a page at a time",
        description="Reads the dead-letter topic with a consumer group of its own (the ingest"
        " group is not touched), oldest first, from --cursor on. Personal fields are masked,"
        " bytes that are not JSON shown as their shape only, and the original cut for"
        " display.",
    )
    dl_list.add_argument("--limit", type=count, default=None, metavar="N", help="show N at most")
    dl_list.add_argument("--cursor", help="where the previous page said to go on")
    dl_list.add_argument("--topic", help="the topic the refused record was on")
    dl_list.add_argument("--type", help="the event type")
    dl_list.add_argument("--customer", help="the record's key or customer_id")
    dl_list.add_argument(
        "--rule", help="a rule id or field the reason names (R-CUS-02, data.consents)"
    )
    dl_list.add_argument("--published-by", help="the publishing system (the envelope's source)")
    dl_list.add_argument(
        "--since", type=moment, help="dead-lettered at or after (ISO 8601, with offset)"
    )
    dl_list.add_argument(
        "--until", type=moment, help="dead-lettered before (ISO 8601, with offset)"
    )
    dl_list.add_argument("--json", action="store_true", help="machine-readable output")
    dl_list.set_defaults(run=commands.deadletters_list)
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
        type=coordinates,
        metavar="TOPIC:PARTITION:OFFSET",
        help="the source coordinates of the letters to replay",
    )
    chosen.add_argument(
        "--all-from", metavar="TOPIC", help="every letter whose source is this topic"
    )
    dl_replay.add_argument("--json", action="store_true", help="machine-readable output")
    target.add_options(dl_replay, new_store=False)
    dl_replay.set_defaults(run=commands.deadletters_replay)
    erase = sub.add_parser(
        "erase",
        help="erase a customer's personal data (deletes their key)",
        description="Logs a customer.erasure_requested event, then deletes the customer's key:"
        " their personal fields become unreadable everywhere (shown as 'erased'), while"
        " their cases, orders and KPI counts stay. Cannot be undone.",
    )
    erase.add_argument("customer_id", help="the customer whose personal data is erased")
    erase.add_argument("--reason", help="recorded with the erasure request")
    erase.add_argument("--json", action="store_true", help="machine-readable output")
    erase.set_defaults(run=commands.erase)
    data.register(sub)
    verify.register(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """``journey <argv>``: the exit code (``journey.cli.boundary``)."""
    return boundary.run(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
