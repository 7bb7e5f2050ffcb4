"""One record whose handler raises what no rule names (a bug, an input nobody foresaw) is
refused naming what it raised, and its neighbours in the same batch are applied: the line
does not stop (issue 13, item 2). Trouble with the store is not a record's fault: it is
raised, for the worker to retry."""

from __future__ import annotations

import sqlite3

import pytest

from application.aggregate_cache import AggregateCache
from application.service import JourneyApplication
from domain.case import Case
from tests.builders.ingest import PARTITION, Contact, batch, raising_on_open

GOOD = [Contact(f"ev-{n}", f"cust-{n}", f"ct-{n}") for n in range(3)]
BOOM = Contact("ev-boom", "cust-boom", "ct-boom")
ALSO_GOOD = Contact("ev-after", "cust-0", "ct-after", case_id="ct-0")


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cached"])
def test_an_unexpected_error_refuses_its_record_and_the_batch_goes_on(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    raising_on_open(monkeypatch, BOOM.contact_id, lambda: ZeroDivisionError("division by zero"))
    cache = AggregateCache(app.process_recorder, 100) if cached else None
    events = batch([GOOD[0], BOOM, GOOD[1], ALSO_GOOD, GOOD[2]])

    pending = app.prepare_batch(PARTITION, events, next_offset=5, cache=cache)
    pending.commit()

    (refused,) = pending.refused()
    assert refused[0].offset == 1
    assert str(refused[1]) == (
        "record: unexpected ZeroDivisionError while applying contact.opened: division by zero"
    )
    assert app.next_offset(PARTITION) == 5
    stored = {s.source.event_id for s in pending.unit.events if hasattr(s, "source")}
    assert stored == {"ev-0", "ev-1", "ev-after", "ev-2"}
    assert app.repository.get(Case.create_id("ct-0")).contact_ids == ["ct-0", "ct-after"]
    with pytest.raises(Exception, match="not found"):
        app.repository.get(Case.create_id(BOOM.contact_id))


def test_trouble_with_the_store_is_raised_not_dead_lettered(
    app: JourneyApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    raising_on_open(
        monkeypatch, BOOM.contact_id, lambda: sqlite3.OperationalError("database is locked")
    )

    with pytest.raises(sqlite3.OperationalError):
        app.prepare_batch(PARTITION, batch([GOOD[0], BOOM]), next_offset=2)
    assert app.next_offset(PARTITION) == 0
