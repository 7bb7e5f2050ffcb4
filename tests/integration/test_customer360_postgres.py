"""The customer 360 read model on PostgreSQL gives what it gives on SQLite
(tests/unit/test_customer360.py proves R-CUS-05 and R-CUS-06 on SQLite): the view of the
multi-channel journey fed in batches of 7, its segments, and a rebuild equal to it."""

from __future__ import annotations

from typing import cast

import pytest

from adapters.readstore import ReadStore
from application.service import JourneyApplication
from projections.base import Notified
from projections.customer360 import Customer360
from tests.builders.customer360 import T0, D, expected_view, new_projection, opened, snapshot

L = T0 + 20 * D
"""A moment after the whole journey (the unit tests' latest purchase of the R-CUS-05 buyer)."""


@pytest.mark.postgres
def test_postgres_gives_the_same_view(
    postgres_store: ReadStore,
    journey_log: list[Notified],
    app: JourneyApplication,
) -> None:
    projection = new_projection(postgres_store)
    for start in range(0, len(journey_log), 7):
        projection.process(journey_log[start : start + 7])

    assert opened(projection.view("c-360"), app) == expected_view(journey_log)
    assert projection.segments("c-360", L) == projection.view("c-360", L)["segments"]  # type: ignore[index]
    rebuild = cast(Customer360, projection.fresh_copy("__rebuild"))
    rebuild.create_tables()
    rebuild.process(journey_log)
    assert snapshot(rebuild) == snapshot(projection)
