"""The benchmark's own arithmetic and plumbing (bench/http_load.py, bench/streamfile.py): a
wrong percentile or a lost request body would make every HTTP figure wrong silently. The
memory measurement spawns a child process: tests/integration/test_bench_memory.py. The CFPB
import's reading of ``/metrics`` (bench/cfpb_import.py) must say what ``journey status``
says, or it would stop the clock early or never; and a setting the read models' replay
is told to try (bench/cfpb_projections.py) must be the one the store's connections use,
or an experiment would measure the project's own settings under another name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

import adapters.readstore
from adapters.metrics import render
from adapters.sourcelog.base import TopicPartition
from adapters.status_metrics import StatusCollector
from application.status import PartitionLag, ProjectionLag, Status
from bench import cfpb_import, cfpb_projections, streamfile
from bench.events import stream
from bench.http_load import bodies, percentile, read_values, write_values

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0.001, max_value=1.0))
def test_percentile_is_the_nearest_rank(values: list[float], share: float) -> None:
    ordered = sorted(values)
    p = percentile(ordered, share)
    assert p in ordered
    at_or_below = sum(1 for v in ordered if v <= p)
    below = sum(1 for v in ordered if v < p)
    # nearest rank: at least `share` of the values are <= p, fewer than that are < p
    assert at_or_below >= share * len(ordered) - 1e-9
    assert below < share * len(ordered) + 1e-9


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 0.99) == 0.0


events = st.lists(
    st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4).map(orjson.dumps),
    min_size=1,
    max_size=50,
)


@given(events, st.integers(min_value=1, max_value=30))
def test_batches_hold_every_event_once_in_order(values: list[bytes], batch: int) -> None:
    work = bodies(values, batch)
    assert sum(n for _, n in work) == len(values)
    posted: list[object] = []
    for body, n in work:
        decoded = orjson.loads(body)
        items = decoded if batch > 1 else [decoded]
        assert len(items) == n <= batch
        posted += items
    assert posted == [orjson.loads(v) for v in values]


@given(events)
def test_values_survive_the_file(
    tmp_path_factory: pytest.TempPathFactory, values: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("values") / "values.jsonl"
    write_values(path, values)
    assert read_values(path) == values


def test_a_value_with_a_line_break_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line break"):
        write_values(tmp_path / "v.jsonl", [b'{"a":\n1}'])


@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=3))
def test_the_stream_survives_its_file(
    tmp_path_factory: pytest.TempPathFactory, count: int, seed: int
) -> None:
    records = stream(count, seed)
    path = tmp_path_factory.mktemp("stream") / "stream.jsonl"
    streamfile.write(path, records)
    assert streamfile.read(path) == records


def _scraped(status: Callable[[], Status]) -> dict[str, Any]:
    registry = CollectorRegistry()
    registry.register(StatusCollector(status))
    return cfpb_import.status_of(render(registry).decode())


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=4),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=6),
    st.integers(0, 10**5),
    st.integers(0, 50),
)
def test_the_cfpb_bench_reads_from_metrics_what_status_json_says(
    ingest_lags: list[int], projection_lags: list[int], backlog: int, dead: int
) -> None:
    head = max(projection_lags)
    status = Status(
        partitions=[
            PartitionLag(TopicPartition("t", i), 10**7, 10**7 - lag)
            for i, lag in enumerate(ingest_lags)
        ],
        dead_letters=dead,
        notifications=head,
        projections=[
            ProjectionLag(f"m{i}", head - lag, head) for i, lag in enumerate(projection_lags)
        ],
        timer_backlog=backlog,
    )
    expected = status.as_json()

    got = _scraped(lambda: status)

    assert got["ingest_lag"] == expected["ingest_lag"]
    assert got["projections"] == [
        {"name": p["name"], "lag": p["lag"]} for p in expected["projections"]
    ]
    assert (got["timer_backlog"], got["dead_letters"]) == (backlog, dead)
    assert got["notifications"] == head
    assert cfpb_import.caught_up(got) is (
        not any(ingest_lags) and not any(projection_lags) and backlog == 0
    )


def test_a_scrape_that_could_not_read_the_store_says_nothing() -> None:
    def broken() -> Status:
        raise OSError("the store is away")

    assert _scraped(broken) == {}


def test_the_cfpb_bench_scrapes_often_only_near_the_end() -> None:
    near = cfpb_import.NEAR_LAG
    assert cfpb_import.nearly_caught_up({})  # the serve starting: nothing known yet
    far = {"ingest_lag": 0, "projections": [{"name": "a", "lag": near}, {"name": "b", "lag": 0}]}
    assert not cfpb_import.nearly_caught_up(far)
    assert not cfpb_import.nearly_caught_up(
        {"ingest_lag": 1, "projections": [{"name": "a", "lag": 0}]}
    )
    assert cfpb_import.nearly_caught_up(
        {"ingest_lag": 0, "projections": [{"name": "a", "lag": near - 1}]}
    )


def test_a_pragma_to_try_replaces_the_stores_own_or_is_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        adapters.readstore, "SQLITE_PRAGMAS", ("journal_mode=WAL", "synchronous=NORMAL")
    )
    cfpb_projections.use_pragmas(["synchronous=OFF", "cache_size=-2000"])
    assert adapters.readstore.SQLITE_PRAGMAS == (
        "journal_mode=WAL",
        "synchronous=OFF",
        "cache_size=-2000",
    )
    store = adapters.readstore.SQLiteReadStore(tmp_path / "read.sqlite")
    try:
        assert store.query("PRAGMA synchronous") == [{"synchronous": 0}]
        assert store.query("PRAGMA cache_size") == [{"cache_size": -2000}]
    finally:
        store.close()
