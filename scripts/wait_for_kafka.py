"""Wait until a Kafka broker answers a metadata request.

Usage: python scripts/wait_for_kafka.py 127.0.0.1:19092 --timeout 90 [--pid PID]

Exits 0 as soon as the broker answers, 1 when the deadline passes first (or, with
--pid, as soon as that process has exited).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from kafka.admin import KafkaAdminClient

BACKOFF_S = 0.25


def try_metadata(bootstrap: str, timeout_ms: int) -> list[str]:
    """One metadata round trip; raises if the broker does not answer in time."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="wait-for-kafka",
        bootstrap_timeout_ms=timeout_ms,
        request_timeout_ms=timeout_ms,
        reconnect_backoff_ms=50,
        reconnect_backoff_max_ms=500,
    )
    try:
        return list(admin.list_topics())
    finally:
        admin.close()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_kafka(bootstrap: str, timeout_s: float, pid: int | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt made"
    while True:
        if pid is not None and not process_alive(pid):
            print(f"wait_for_kafka: broker process {pid} has exited", file=sys.stderr)
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print(
                f"wait_for_kafka: {bootstrap} did not answer within {timeout_s:g}s "
                f"(last error: {last_error})",
                file=sys.stderr,
            )
            return False
        try:
            try_metadata(bootstrap, max(500, int(min(remaining, 2.0) * 1000)))
            return True
        except Exception as exc:  # any failure means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(min(BACKOFF_S, max(0.0, deadline - time.monotonic())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bootstrap", help="host:port of the broker")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds (default 90)")
    parser.add_argument("--pid", type=int, help="give up as soon as this process exits")
    parser.add_argument("--verbose", action="store_true", help="show kafka-python logs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL)
    return 0 if wait_for_kafka(args.bootstrap, args.timeout, args.pid) else 1


if __name__ == "__main__":
    sys.exit(main())
