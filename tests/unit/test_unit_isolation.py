"""The unit tier's guard (tests/unit/isolation.py, installed for every unit test by
tests/unit/conftest.py): no network, no child process; files and AF_UNIX sockets pass.

Each check runs its own guard inside the one the test runs under, so that the refusals it
provokes on purpose are not taken for refusals the code under test swallowed."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.isolation import NotInTheUnitTier, no_network_and_no_processes


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_a_socket_may_not_connect_over_the_network(family: socket.AddressFamily) -> None:
    address = ("127.0.0.1", 9) if family == socket.AF_INET else ("::1", 9)
    with no_network_and_no_processes() as refused, socket.socket(family) as sock:
        with pytest.raises(NotInTheUnitTier, match="tests/integration"):
            sock.connect(address)
        with pytest.raises(NotInTheUnitTier):
            sock.connect_ex(address)
    assert len(refused) == 2


def test_a_datagram_may_not_leave() -> None:
    with (
        no_network_and_no_processes() as refused,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
        pytest.raises(NotInTheUnitTier, match="datagram"),
    ):
        sock.sendto(b"x", ("127.0.0.1", 9))
    assert refused == ["send a datagram to ('127.0.0.1', 9)"]


def test_a_socket_may_connect_to_a_unix_address(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
        accepted, _ = server.accept()
        with accepted:
            client.sendall(b"ping")
            assert accepted.recv(4) == b"ping"


@pytest.mark.parametrize(
    "start",
    [
        lambda: subprocess.run([sys.executable, "-c", "pass"], check=False),
        lambda: subprocess.Popen(["true"]),
        lambda: os.system("true"),  # noqa: S605 - refused before any shell runs
        lambda: os.fork(),
        lambda: os.posix_spawn("/bin/true", ["true"], {}),
        lambda: multiprocessing.get_context("spawn").Process(target=print).start(),
        lambda: multiprocessing.get_context("forkserver").Process(target=print).start(),
    ],
    ids=["subprocess.run", "Popen", "os.system", "os.fork", "posix_spawn", "spawn", "forkserver"],
)
def test_no_process_may_start(start: Callable[[], object]) -> None:
    with (
        no_network_and_no_processes() as refused,
        pytest.raises(NotInTheUnitTier, match="start a process"),
    ):
        start()
    assert len(refused) == 1


def test_files_may_be_written(tmp_path: Path) -> None:
    import sqlite3

    with no_network_and_no_processes() as refused:
        db = sqlite3.connect(tmp_path / "events.sqlite")
        try:
            db.execute("CREATE TABLE t (x)")
        finally:
            db.close()
    assert refused == []
