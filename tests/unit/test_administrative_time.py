"""An administrative fact never moves event time (issue 14, item 5): an erasure request is
stamped when an admin asked, years after the journey it erases perhaps, and were it to move
the watermark, the clock timer would breach every open SLA deadline at once and the
customer 360 would judge every customer's segments (R-CUS-05) at the admin's wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.readstore import SQLiteReadStore
from application.service import JourneyApplication
from domain.aggregate import advances_event_time, is_fact
from domain.customer import Customer
from projections.base import Notified
from projections.customer360 import Customer360
from projections.deadlines import DeadlineIndex
from tests.builders.apps import make_app
from tests.builders.customer360 import T0, Journey
from tests.unit.feeding import NOW

DAY = timedelta(days=1)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[JourneyApplication]:
    made = make_app(tmp_path)
    yield made
    made.close()


def notifications(app: JourneyApplication) -> list[Notified]:
    found = app.process_recorder.select_notifications(start=None, limit=10_000)
    return [(n.id, app.mapper.to_domain_event(n)) for n in found]


def test_an_erasure_request_moves_neither_watermark(
    app: JourneyApplication, tmp_path: Path
) -> None:
    j = Journey(app)
    j("customer.registered", T0, "c-e", member_id="m-e", consents=["service"])
    j("contact.opened", T0 + DAY, "c-e", contact_id="k-e", classification="complaint",
      topic="order")  # fmt: skip
    j("customer.erasure_requested", NOW, "c-e", reason="the customer asked")
    log = notifications(app)
    assert any(isinstance(e, Customer.ErasureRequested) for _, e in log)

    store = SQLiteReadStore(tmp_path / "read.sqlite")
    index, c360 = DeadlineIndex(store), Customer360(store)
    for projection in (index, c360):
        projection.create_tables()
        projection.process(log)

    assert index.watermark() == T0 + DAY
    assert c360.watermark() == T0 + DAY
    view = c360.view("c-e")
    assert view is not None
    assert view["as_of"] == (T0 + DAY).isoformat()
    assert index.due_before(NOW), "the complaint's clocks are open"
    assert index.due_before(T0 + DAY) == [], "and the watermark passed none of them"
    store.close()


def test_only_administrative_facts_keep_event_time_still(app: JourneyApplication) -> None:
    j = Journey(app)
    j("customer.registered", T0, "c-f", member_id="m-f", consents=["service"])
    j("customer.erasure_requested", NOW, "c-f")
    events = [e for _, e in notifications(app)]
    assert [advances_event_time(e) for e in events if is_fact(e)] == [True, False]
