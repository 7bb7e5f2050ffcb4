"""What handlers share: the unit of work of one batch, and loading what must exist."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate

from adapters.privacy.personal import PersonalData
from application.aggregate_cache import AggregateCache
from application.existing_ids import ExistingIds
from application.projector import mutate_in_order
from domain.errors import NotFound
from domain.order import Order

A = TypeVar("A", bound=Aggregate)


class MissingPrerequisite(NotFound):
    """The order, case, return, callback, contact, survey or customer a source event refers
    to is not known (yet), or has not reached what the event follows (``not_yet``: an
    order's delivery, a case's resolution): the event is parked in the lot of
    ``aggregate_id`` until that arrives (``domain.parking``)."""

    def __init__(self, aggregate_id: UUID, what: str, *, not_yet: str | None = None) -> None:
        super().__init__(f"unknown {what}" if not_yet is None else f"{what} is not {not_yet} yet")
        self.aggregate_id = aggregate_id


def awaiting_delivery(order: Order) -> None:
    """An event that follows an order's delivery (an after-delivery callback, a return)
    waits for it while the order may still be delivered; for a cancelled order it goes on
    to the rule that refuses it."""
    if order.delivered_at is None and order.status != "cancelled":
        raise MissingPrerequisite(order.id, f"order {order.order_id!r}", not_yet="delivered")


class UnitOfWork:
    """Aggregates loaded or created while applying one batch, and their new events in the
    order of the source records that caused them."""

    def __init__(
        self,
        repository: Repository[UUID],
        personal: PersonalData,
        cache: AggregateCache | None = None,
    ) -> None:
        self._repository = repository
        self.personal = personal
        """Seals personal fields with the customer's key before they reach an event."""
        self._cache = cache
        self._aggregates: dict[UUID, Aggregate] = {}
        self._absent: set[UUID] = set()
        """Ids looked up in this batch that have no stored events."""
        self._touched: dict[UUID, Aggregate] = {}
        self._created: set[UUID] = set()
        self._progressed: set[UUID] = set()
        self.events: list[Any] = []

    def get(self, kind: type[A], aggregate_id: UUID) -> A | None:
        aggregate = self._aggregates.get(aggregate_id)
        if aggregate is None:
            loaded = self._load(aggregate_id)
            if loaded is None:
                return None
            aggregate = self._aggregates[aggregate_id] = loaded
        if not isinstance(aggregate, kind):
            raise NotFound(f"{aggregate_id} is a {type(aggregate).__name__}, not a {kind.__name__}")
        self._touched[aggregate_id] = aggregate
        return aggregate

    def _load(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id in self._absent:
            return None
        if self._cache is not None:
            known, cached = self._cache.lookup(aggregate_id)
            if known:
                if cached is None:
                    self._absent.add(aggregate_id)
                return cached
        try:
            return self._repository.get(aggregate_id, projector_func=mutate_in_order)
        except AggregateNotFoundError:
            self._absent.add(aggregate_id)
            return None

    def known(self) -> Iterator[tuple[UUID, Aggregate | None]]:
        """Every id this unit looked up or created, with its aggregate or ``None`` if it
        has no events: what the batch, once stored, knows of the store. The ids known
        absent come first, so that a cache short of room keeps the aggregates longest."""
        for aggregate_id in self._absent:
            if aggregate_id not in self._aggregates:
                yield aggregate_id, None
        yield from self._aggregates.items()

    def prefetch(self, ids: Iterable[UUID], existing: ExistingIds) -> None:
        """Ask the store in one go which of ``ids`` exist; the others are known absent for
        this batch, so looking them up costs no query. Ids already held are skipped."""
        cache = self._cache
        unknown = list(
            dict.fromkeys(
                i
                for i in ids
                if i not in self._aggregates
                and i not in self._absent
                and (cache is None or i not in cache)
            )
        )
        if unknown:
            found = existing(unknown)
            self._absent.update(i for i in unknown if i not in found)

    def require(self, kind: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self.get(kind, aggregate_id)
        if aggregate is None:
            raise MissingPrerequisite(aggregate_id, what)
        return aggregate

    def created_ids(self) -> list[UUID]:
        """Ids created since the last ``collect``."""
        return list(self._created)

    def progressed(self, aggregate_id: UUID) -> None:
        """A handler tells that the aggregate reached what events may wait for besides its
        existence (``MissingPrerequisite``): an order's delivery, a case's resolution."""
        self._progressed.add(aggregate_id)

    def arrivals(self) -> list[UUID]:
        """Ids created or progressed since the last ``collect``: the aggregates whose
        parked events may be applied now."""
        return list(dict.fromkeys([*self._created, *self._progressed]))

    def add(self, aggregate: Aggregate) -> None:
        self._aggregates[aggregate.id] = aggregate
        self._touched[aggregate.id] = aggregate
        self._created.add(aggregate.id)

    def touch(self, aggregate: Aggregate) -> None:
        """``aggregate`` (held by this unit) has new events for the next ``collect``."""
        self._touched[aggregate.id] = aggregate

    def collect(self) -> None:
        """Take the new events of the aggregates touched since the last call."""
        for aggregate in self._touched.values():
            self.events.extend(aggregate.collect_events())
        self._touched.clear()
        self._created.clear()
        self._progressed.clear()

    def discard(self) -> None:
        """Undo what a refused source event touched: aggregates it created are forgotten
        (loaded ones triggered nothing, by the handlers' check-then-act contract)."""
        for aggregate_id in self._created:
            del self._aggregates[aggregate_id]
        self._touched.clear()
        self._created.clear()
        self._progressed.clear()
