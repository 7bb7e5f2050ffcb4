"""``journey serve`` starts its worker children (``journey.cli.children``): the projections
as one child per share of the read models when ``JOURNEY_PROJECTION_PROCESSES`` is above
one, each told its own share, and none inheriting a share or a metrics port set for
``serve`` itself."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from journey.cli import children


class Started:
    """Stands in for ``subprocess.Popen``: records each start and exits at once."""

    def __init__(self, stop: threading.Event, starts: list[dict[str, str]]) -> None:
        self._stop = stop
        self._starts = starts

    def __call__(self, command: list[str], env: dict[str, str]) -> Any:
        self._starts.append({"command": " ".join(command[-2:])} | env)
        self._stop.set()  # one start is all this test needs
        return self

    pid = 1
    returncode = 0

    def poll(self) -> int:
        return 0


def started_env(monkeypatch: pytest.MonkeyPatch, child: children.ChildWorker) -> dict[str, str]:
    stop = threading.Event()
    starts: list[dict[str, str]] = []
    fake = SimpleNamespace(Popen=Started(stop, starts), TimeoutExpired=TimeoutError)
    monkeypatch.setattr(children, "subprocess", fake)  # this module's name only
    child.run(stop)
    [env] = starts
    return env


@pytest.mark.parametrize("shares", [1, 2, 3])
def test_one_child_per_share_each_told_its_own(
    monkeypatch: pytest.MonkeyPatch, shares: int
) -> None:
    monkeypatch.setenv("JOURNEY_PROJECTION_SHARE", "1/4")  # serve's own: never handed down
    monkeypatch.setenv("JOURNEY_METRICS_PORT", "9100")
    made = children.children_of({"timer", "projections"}, projection_shares=shares)
    projectors = [c for c in made if c.command[-1] == "project"]
    assert [c.command[-1] for c in made if c not in projectors] == ["timer"]
    envs = [started_env(monkeypatch, c) for c in projectors]
    assert all("JOURNEY_METRICS_PORT" not in env for env in envs)
    got = [env.get("JOURNEY_PROJECTION_SHARE") for env in envs]
    if shares == 1:
        assert got == [None]
        assert [c.name for c in projectors] == ["projections"]
    else:
        assert got == [f"{i}/{shares}" for i in range(1, shares + 1)]
        assert [c.name for c in projectors] == [f"projections {g}" for g in got]
