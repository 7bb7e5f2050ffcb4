"""The read models, declared once. The composition root builds them from ``READ_MODELS``;
the projection runner feeds them, the rebuild picks among them, the status and readiness
report them, all from what is built here, in this order.

A *projection* is applied decoded events in batches by the runner, and can be rebuilt. A
*follower* follows the notification log by itself (the audit chain reads raw records) and
is never rebuilt; it runs in the projections worker beside the runner's batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from adapters.readstore import ReadStore
from projections.audit_chain import AuditChain
from projections.base import Projection
from projections.customer360 import Customer360
from projections.deadlines import DeadlineIndex
from projections.kpis import KpiCounters
from projections.ledger import ComplaintLedger
from projections.orders import OrdersAndReturns
from projections.parking import ParkedIndex
from projections.quarantine import Quarantine
from projections.runner import Follower

T = TypeVar("T")


@dataclass(frozen=True)
class ReadModel:
    """One read model: its class (which names it), whether it is a follower, and what it
    costs. A projection's class is built over the read store; a follower's over the read
    store, the event store's recorder and its mapper."""

    kind: type[Projection] | type[AuditChain]
    cost: int
    """CPU µs a stored event, about (the read side's rebuilds at 1M, docs/BENCHMARKS.md):
    what shares the read models out among processes evenly (``ReadModels.share``)."""
    follower: bool = False

    @property
    def name(self) -> str:
        return self.kind.name


READ_MODELS: tuple[ReadModel, ...] = (
    ReadModel(ComplaintLedger, cost=31),
    ReadModel(DeadlineIndex, cost=18),
    ReadModel(Customer360, cost=23),
    ReadModel(KpiCounters, cost=35),
    ReadModel(OrdersAndReturns, cost=17),
    ReadModel(ParkedIndex, cost=12),
    ReadModel(AuditChain, cost=10, follower=True),
)


@dataclass(frozen=True)
class ReadModels:
    """The declared read models, built over one read store."""

    built: tuple[tuple[ReadModel, Any], ...]
    quarantine: Quarantine
    """Events a read model could not apply, held aside for it (``projections.quarantine``)."""

    @cached_property
    def projections(self) -> list[Projection]:
        """The projections, in declaration order."""
        return [model for declared, model in self.built if not declared.follower]

    @cached_property
    def followers(self) -> list[Follower]:
        """The followers, in declaration order."""
        return [model for declared, model in self.built if declared.follower]

    def share(self, index: int, count: int) -> ReadModels:
        """The ``index``-th (from 1) of ``count`` shares of the read models, for one of
        ``count`` processes to follow the log with (``journey project`` with
        ``JOURNEY_PROJECTION_SHARE``): each read model in exactly one share, the costliest
        first into the share that costs least so far (ties to the earlier share), so the
        shares cost about the same and every process computes the same split."""
        if not 1 <= index <= count:
            raise ValueError(f"share {index} of {count}: no such share")
        totals = [0] * count
        owner: dict[str, int] = {}
        for declared, _ in sorted(self.built, key=lambda item: -item[0].cost):
            lightest = totals.index(min(totals))
            owner[declared.name] = lightest
            totals[lightest] += declared.cost
        mine = tuple(item for item in self.built if owner[item[0].name] == index - 1)
        return ReadModels(mine, self.quarantine)

    def get(self, kind: type[T]) -> T:
        """The read model of class ``kind``."""
        for _, model in self.built:
            if type(model) is kind:
                return model
        raise LookupError(f"no read model of class {kind.__qualname__} is declared")

    def quarantined(self) -> dict[str, int]:
        """Every declared read model → the events it holds in quarantine (0 for most)."""
        counts = self.quarantine.counts()
        return {declared.name: counts.get(declared.name, 0) for declared, _ in self.built}

    def create_tables(self) -> None:
        self.quarantine.create_tables()
        for _, model in self.built:
            model.create_tables()


def build_read_models(
    store: ReadStore,
    recorder: ApplicationRecorder,
    mapper: Mapper[UUID],
    declared: Sequence[ReadModel] = READ_MODELS,
) -> ReadModels:
    """Every declared read model over ``store``; a follower also reads the event store's
    raw records (``recorder``) and decodes creation events (``mapper``). Nothing is
    created in the store yet: ``create_tables``."""
    built: list[tuple[ReadModel, Any]] = []
    for model in declared:
        if model.follower:
            built.append((model, cast(type[AuditChain], model.kind)(store, recorder, mapper)))
        else:
            built.append((model, cast(type[Projection], model.kind)(store)))
    return ReadModels(tuple(built), Quarantine(store))
