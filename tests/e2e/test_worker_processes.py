"""Issue 18: ``journey serve`` runs the read models in a child process of its own
(``JOURNEY_WORKER_PROCESSES``, default ``projections``), so that a catch-up uses a second
core. The child is started again when it dies, and dies with ``serve``, even by kill -9;
what it applies is what a thread would have applied (the ledger shows each event once)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.journey_service import Service, development_keys, free_port
from tests.factories import contact_opened, unique

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def until(found: Callable[[], T | None], what: str, timeout_s: float = 60) -> T:
    """The first truthy answer of ``found``, asked again until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = found()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {timeout_s:g} s: {what}")
        time.sleep(0.05)


def children_of(pid: int) -> dict[int, str]:
    """Live child processes of ``pid``: pid → command line."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rpartition(")")[2].split()[:2]
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if parent == str(pid) and state != "Z":
            found[int(stat.parent.name)] = command.strip()
    return found


def projector_of(pid: int) -> int | None:
    """The child of ``pid`` running ``journey project``, if one runs."""
    return next(
        (c for c, cmd in children_of(pid).items() if cmd.endswith("journey.cli project")), None
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[tuple[Service, str]]:
    """``journey serve`` on a free port with its data in ``tmp_path``, and ``env``, until
    healthy; stopped at the end (its output printed, for a failure's report)."""
    port = free_port()
    service = Service(
        {"JOURNEY_DATA_DIR": str(tmp_path / "data"), "JOURNEY_PORT": str(port), **env}, tmp_path
    )
    try:
        service.start("serve")
        url = f"http://127.0.0.1:{port}"
        service.wait_healthy(url)
        yield service, url
    finally:
        service.stop()
        print(service.output())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Service, str]]:
    with serving(tmp_path) as found:
        yield found


def published_and_read(
    url: str, keys: dict[str, str], customer: str, contact: str
) -> dict[str, Any]:
    """A contact published as a channel, then read back from the ledger as an analyst once
    the read models hold it."""
    event = contact_opened(customer_id=customer, contact_id=contact, channel="app")
    answer = httpx.post(
        f"{url}/v1/events",
        json=event,
        headers={"Authorization": f"Bearer {keys['channel']}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    position = answer.json()["accepted"][0]["position"]
    ledger = httpx.get(
        f"{url}/v1/complaints",
        params={"consistent_with": position, "customer": customer},
        headers={"Authorization": f"Bearer {keys['analyst']}"},
        timeout=60,
    )
    assert ledger.status_code == 200, ledger.text
    body: dict[str, Any] = ledger.json()
    return body


def test_the_read_models_run_in_a_child_started_again_and_ended_with_serve(
    served: tuple[Service, str],
) -> None:
    service, url = served
    [(_, serve)] = service.processes
    keys = development_keys((service.logs / "serve.log").read_text())
    customer = unique("cust-")

    first = until(lambda: projector_of(serve.pid), "a `journey project` child of serve")
    [row] = published_and_read(url, keys, customer, "c-1")["items"]
    assert (row["case_ref"], row["contacts"]) == ("c-1", 1)

    os.kill(first, signal.SIGKILL)  # serve starts another; nothing is lost or doubled
    second = until(lambda: (p := projector_of(serve.pid)) != first and p, "a new projector")
    rows = published_and_read(url, keys, customer, "c-2")["items"]
    assert sorted((r["case_ref"], r["contacts"]) for r in rows) == [("c-1", 1), ("c-2", 1)]

    serve.kill()  # kill -9: the kernel ends the child too (PR_SET_PDEATHSIG)
    serve.wait()
    until(lambda: not alive(second), "the projector ended with serve")


def test_with_no_worker_processes_serve_runs_every_worker_in_its_own_process(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, JOURNEY_WORKER_PROCESSES="") as (service, url):
        [(_, serve)] = service.processes
        keys = development_keys((tmp_path / "serve.log").read_text())
        [row] = published_and_read(url, keys, unique("cust-"), "c-1")["items"]
        assert row["case_ref"] == "c-1"
        assert children_of(serve.pid) == {}


def projectors_of(pid: int) -> dict[str, int]:
    """The children of ``pid`` running ``journey project``: the share each follows the log
    for (``JOURNEY_PROJECTION_SHARE``; "" for all) → its process id."""
    found = {}
    for child, command in children_of(pid).items():
        if command.endswith("journey.cli project"):
            try:
                env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            share = next(
                (v[25:].decode() for v in env if v.startswith(b"JOURNEY_PROJECTION_SHARE=")), ""
            )
            found[share] = child
    return found


def test_the_read_models_shared_among_two_children_apply_every_event_once(
    tmp_path: Path,
) -> None:
    """``JOURNEY_PROJECTION_PROCESSES=2``: two ``journey project`` children, one per share
    of the read models (``ReadModels.share``), which together keep every read model up to
    date; one killed is started again with its own share."""
    with serving(
        tmp_path, JOURNEY_PROJECTION_PROCESSES="2", JOURNEY_WORKERS="ingest,projections,timer"
    ) as (service, url):
        [(_, serve)] = service.processes
        keys = development_keys((tmp_path / "serve.log").read_text())
        customer = unique("cust-")

        def both() -> dict[str, int] | None:
            found = projectors_of(serve.pid)
            return found if found.keys() == {"1/2", "2/2"} else None

        first = until(both, "two `journey project` children, shares 1/2 and 2/2")
        [row] = published_and_read(url, keys, customer, "c-1")["items"]
        assert (row["case_ref"], row["contacts"]) == ("c-1", 1)

        os.kill(first["2/2"], signal.SIGKILL)

        def restarted() -> dict[str, int] | None:
            found = both()
            return found if found is not None and found["2/2"] != first["2/2"] else None

        again = until(restarted, "share 2/2 started again")
        assert again["1/2"] == first["1/2"]  # the other share was left alone
        rows = published_and_read(url, keys, customer, "c-2")["items"]
        assert sorted((r["case_ref"], r["contacts"]) for r in rows) == [("c-1", 1), ("c-2", 1)]
        status = httpx.get(f"{url}/readyz", timeout=30)
        assert status.status_code == 200, status.text


def test_a_worker_ends_on_sigterm_whenever_and_however_often_it_comes(tmp_path: Path) -> None:
    """A burst of SIGTERMs at a running ``journey project``: it ends, exit 0. The handler
    once set the stop event itself and could wait forever on the lock the main thread held
    in ``Event.wait``: the worker hung, and a child of serve outlived it."""
    service = Service({"JOURNEY_DATA_DIR": str(tmp_path / "data")}, tmp_path)
    service.start("project")
    [(_, worker)] = service.processes
    try:
        until(
            lambda: "projecting" in (tmp_path / "project.log").read_text(errors="replace"),
            "journey project running",
        )
        for _ in range(200):
            if worker.poll() is not None:
                break
            worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, service.output()
    finally:
        service.stop()
