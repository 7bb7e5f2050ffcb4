"""The registry of source event types, built from the schema classes' own declarations.

A schema class declares what it is once, in its class statement (``Data.__init_subclass__``
registers it here)::

    class ContactOpened(Data, event_type="contact.opened", family="contacts", version=2): ...

There is no other list of type names: the envelope's validation, the upcasts, the topic of a
type, the catalogue in docs/events.md and the handlers' completeness all read this registry.
It is complete once ``contracts.schemas`` is imported, which importing any of its modules
does first (the package imports every family module).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from contracts.schemas.base import Data

Family = Literal["contacts", "orders", "returns", "engagement", "customers"]
"""The families of source events; each family's types travel on the topic named for it."""
FAMILIES: tuple[Family, ...] = get_args(Family)

Upcast = Callable[[dict[str, Any]], dict[str, Any]]
"""From one version's ``data`` (as given, without defaults) to the next version's."""

_NAME = re.compile(r"^[a-z]+(_[a-z]+)*\.[a-z]+(_[a-z]+)*$")


@dataclass
class EventType:
    """One source event type: its name, its family, its schema per version, and the upcast
    from each version below the latest to the next."""

    name: str
    family: Family
    versions: dict[int, type[Data]] = field(default_factory=dict)
    upcasts: dict[int, Upcast] = field(default_factory=dict)

    @property
    def latest(self) -> int:
        return max(self.versions)

    @property
    def schema(self) -> type[Data]:
        """The latest version's schema: what validation upcasts to and handlers receive."""
        return self.versions[self.latest]

    @property
    def module(self) -> str:
        """The module that declares the latest version (its section of the catalogue)."""
        return self.schema.__module__

    def to_latest(self, data: Data, version: int) -> Data:
        """``data`` of ``version`` upcast step by step to the latest version (raises
        pydantic's ``ValidationError`` if a step's result does not validate)."""
        while version < self.latest:
            raw = self.upcasts[version](data.model_dump(exclude_unset=True))
            version += 1
            data = self.versions[version].model_validate(raw)
        return data


class EventTypes:
    """Every registered source event type, in the order their first versions were declared."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(
        self,
        schema: type[Data],
        event_type: str,
        family: Family,
        version: int,
        upcast: Upcast | None,
    ) -> None:
        """Called by ``Data.__init_subclass__`` for a class that declares ``event_type``."""
        where = f"{schema.__module__}.{schema.__qualname__}"
        if not _NAME.match(event_type):
            raise TypeError(f"{where}: {event_type!r} is not a type name like 'contact.opened'")
        if family not in FAMILIES:
            raise TypeError(f"{where}: unknown family {family!r}; known: {', '.join(FAMILIES)}")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TypeError(f"{where}: version must be a whole number from 1, not {version!r}")
        known = self._types.setdefault(event_type, EventType(event_type, family))
        if known.family != family:
            raise TypeError(f"{where}: {event_type} is in family {known.family}, not {family}")
        if version in known.versions:
            other = known.versions[version]
            raise TypeError(f"{where}: {event_type} v{version} is already {other.__qualname__}")
        known.versions[version] = schema
        if upcast is not None:
            known.upcasts[version] = upcast

    def check(self) -> None:
        """Every type's versions run from 1 to its latest, each below the latest with an
        upcast and the latest without one."""
        for known in self:
            if sorted(known.versions) != list(range(1, known.latest + 1)):
                raise TypeError(f"{known.name}: versions {sorted(known.versions)} have a gap")
            if sorted(known.upcasts) != list(range(1, known.latest)):
                raise TypeError(
                    f"{known.name}: upcasts from versions {sorted(known.upcasts)}; every"
                    f" version below the latest (v{known.latest}) needs one, and only those"
                )

    def __getitem__(self, event_type: str) -> EventType:
        return self._types[event_type]

    def get(self, event_type: str) -> EventType | None:
        return self._types.get(event_type)

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        """Every type name, sorted."""
        return sorted(self._types)

    def families(self) -> list[Family]:
        """The families that have types, sorted."""
        return sorted({known.family for known in self})

    def of_family(self, family: Family) -> list[EventType]:
        return [known for known in self if known.family == family]

    def in_module(self, module: str) -> list[EventType]:
        return [known for known in self if known.module == module]


EVENT_TYPES = EventTypes()
"""The registry; read it through ``contracts.schemas`` (which makes it complete)."""
