"""Errors the domain raises. Each names the rule (``R-…``) or the fact it protects; the
API maps them to HTTP codes and the ingest consumer to dead-letter reasons."""


class DomainError(Exception):
    """A command the domain refuses. ``rule`` is the SOP rule id when one applies."""

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(f"{rule}: {message}" if rule else message)
        self.rule = rule


class NotFound(DomainError):
    """An event names an order, case, contact or other aggregate that does not exist; it is
    refused with this reason, never dropped silently."""
