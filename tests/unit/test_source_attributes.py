"""Source attributes (issue 15, item 4): declared once (``contracts.attributes``), bounded,
never personal data; refused with a reason naming the field; kept with each fact's source
reference and stored only when present; the ledger and the orders read model keep, filter
and group by them (``projections.ledger.counts``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.readstore import SQLiteReadStore
from adapters.transcoding import SourceRefAsDict
from application.service import JourneyApplication
from contracts.attributes import ATTRIBUTES, MAX_ATTRIBUTES, MAX_VALUE, NAME
from contracts.envelope import InvalidEvent, validate
from contracts.schemas.customers import Personal
from domain.provenance import SourceRef
from projections.ledger import ComplaintLedger, LedgerFilter
from projections.ledger.counts import LedgerCounts, UnknownDimension
from tests.builders.source_attributes import T0, VIAS, cases, opened
from tests.unit.feeding import NOW, Feed
from tools.importers.steps import Journey
from tools.importers.summary import ImportSummary

CASES = [name for name, a in ATTRIBUTES.items() if "contacts" in a.families]


def refused(attributes: dict[str, Any], event_type: str = "contact.opened") -> dict[str, str]:
    data = {"contact_id": "c", "classification": "complaint", "topic": "other"}
    if event_type == "order.shipped":
        data = {"order_id": "o-1"}
    body = {
        "event_id": "e",
        "type": event_type,
        "occurred_at": T0.isoformat(),
        "channel": "web",
        "customer_id": "cust-1",
        "source": "test",
        "schema_version": 1,
        "data": data,
        "attributes": attributes,
    }
    with pytest.raises(InvalidEvent) as error:
        validate(body, now=NOW, max_future=timedelta(minutes=5))
    return {p.field: p.reason for p in error.value.problems}


def test_declared_names_are_well_formed_and_none_is_a_personal_field() -> None:
    personal = set(Personal.model_fields)
    assert personal  # name, phone, email, address, id_number
    for name, attribute in ATTRIBUTES.items():
        assert NAME.match(name)
        assert attribute.name == name
        assert attribute.families
        assert not any(field in name for field in personal), name


def test_each_refusal_names_the_attribute_at_fault() -> None:
    assert (
        "not a declared source attribute" in refused({"zip_code": "90210"})["attributes.zip_code"]
    )
    reason = refused({"submitted_via": "Web"}, "order.shipped")["attributes.submitted_via"]
    assert "not an attribute of orders events" in reason
    assert "1 to" in refused({"issue": "x" * (MAX_VALUE + 1)})["attributes.issue"]
    assert "1 to" in refused({"issue": 7})["attributes.issue"]
    assert "personal" in refused({"issue": "mail me at a@b.example"})["attributes.issue"]
    assert "personal" in refused({"issue": "call +1 (555) 010-2030"})["attributes.issue"]
    assert "a name is" in refused({"Issue": "x"})["attributes.Issue"]
    too_many = {f"extra_{n}": "x" for n in range(MAX_ATTRIBUTES + 1)}
    assert "over 16" in refused(too_many)["attributes"]


@given(
    st.dictionaries(
        st.sampled_from(CASES),
        st.text(st.characters(categories=["L", "Zs"]), min_size=1, max_size=MAX_VALUE).filter(
            str.strip
        ),
        max_size=MAX_ATTRIBUTES,
    )
)
def test_declared_attributes_pass_and_travel_with_each_fact(attributes: dict[str, str]) -> None:
    """Accepted as given; a source reference carries them and is stored with them only
    when there are some, decoding to what was encoded."""
    event = opened("c-1", attributes or None)
    assert dict(event.attributes) == attributes
    ref = SourceRef("e", "t", 0, 1).with_attributes(event.attributes)
    transcoding = SourceRefAsDict()
    encoded = transcoding.encode(ref)
    assert ("attributes" in encoded) == bool(attributes)
    assert transcoding.decode(dict(encoded)) == ref


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[ComplaintLedger]:
    projection = ComplaintLedger(SQLiteReadStore(tmp_path / "rm.sqlite"))
    projection.create_tables()
    yield projection
    projection.store.close()


def project(app: JourneyApplication, ledger: ComplaintLedger) -> None:
    found = app.process_recorder.select_notifications(start=None, limit=10_000)
    ledger.process([(n.id, app.mapper.to_domain_event(n)) for n in found])


def test_the_ledger_keeps_filters_and_counts_by_source_attributes(
    app: JourneyApplication, ledger: ComplaintLedger
) -> None:
    feed = Feed(app)
    vias, events = VIAS, cases()
    assert feed(*events) == []
    project(app, ledger)
    counts = LedgerCounts(ledger)

    answer = counts.counts(LedgerFilter(), ["attribute.submitted_via"])
    assert answer.total == len(vias)
    assert Counter({k["attribute.submitted_via"]: n for k, n in answer.groups}) == Counter(vias)
    web = LedgerFilter(attributes=(("submitted_via", "Web"),))
    assert counts.counts(web).total == 3
    assert {r["attributes"]["submitted_via"] for r in ledger.page(10, where=web)} == {"Web"}
    complaints = LedgerFilter(classification="complaint")
    assert counts.counts(complaints).total == 3
    both = counts.counts(complaints, ["classification", "attribute.state"])
    assert both.groups == [
        ({"classification": "complaint", "attribute.state": "CA"}, 2),
        ({"classification": "complaint", "attribute.state": None}, 1),  # c-4 has none
    ]
    # The opening's local year in the zone asked: 20:00 UTC is the next day in Shanghai.
    zone = ZoneInfo("Asia/Shanghai")
    years = counts.counts(LedgerFilter(), ["opened_year"], zone)
    expected = Counter(str((e.occurred_at.astimezone(zone)).year) for e in events)
    assert Counter({k["opened_year"]: n for k, n in years.groups}) == expected
    with pytest.raises(UnknownDimension):
        counts.counts(LedgerFilter(), ["attribute.zip_code"])


def test_an_importer_leaves_a_contact_like_value_off_and_keeps_the_step() -> None:
    summary = ImportSummary("cfpb")
    journey = Journey(summary, "p", "cust-1", "web")
    journey.add(
        "contact.opened",
        "opened",
        T0,
        {"contact_id": "c", "classification": "complaint", "topic": "other"},
        attributes={
            "issue": "call 555 010 2030",
            "state": " CA ",
            "product": "",
            "sub_product": None,
        },
    )
    (step,) = journey.steps
    assert step.attributes == {"state": "CA"}
    assert summary.attributes_dropped == {"issue: looks like contact data": 1}
