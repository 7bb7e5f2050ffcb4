"""The audit chain: every stored event of every aggregate, linked by hash, kept in the read
store, so that an auditor can tell whether a stored event was altered or removed.

How it works. A follower of the event store's notification log reads the raw records
(``Notification``: originator id, version, topic, state bytes, exactly as stored — if
state is compressed or encrypted, the stored bytes, never a re-encoding) and records per
aggregate and version ``link = sha256(previous link ‖ originator id ‖ version ‖ topic ‖
state)``, with lengths framing the variable parts and a fixed genesis value before version
1. Links and the follower's position move in one transaction (exactly-once, as in
``projections.base``). ``verify`` recomputes the chain from the events stored now and
compares it link by link: the first version whose recomputed link differs is *altered*, a
version the chain holds but the store does not is *missing* (a gap, or the last event
deleted), an event the chain should hold but does not is *unexpected*.

Threat model, honestly:

- It detects a change to, or the removal of, any stored event *after the follower chained
  it* (normally well under a second after it was written), made directly in the event
  store — the SQLite file or the PostgreSQL table — by someone who did not also rewrite the
  chain to match.
- It does not prove that an event was legitimate when it was written: an event inserted
  with the next version before the follower reads it is chained like any other. Events not
  yet chained are reported as ``pending``, not verified.
- Someone who can write both stores can rewrite an event and recompute every later link
  of that aggregate; verify then reports nothing. In the scaled deployment both stores
  are the same PostgreSQL database, so a database superuser is such a person; in the
  embedded one, anyone who can write both SQLite files. Protection against them needs the
  chain heads published somewhere they cannot write (not built here).
- Changing only a link (not the event) is reported as an alteration of that version:
  the chain cannot tell which of the two was changed, only that they disagree.

The chain is the record of what was stored, so unlike the read models it must never be
rebuilt from the current event store: that would bless whatever is there now. A new
deployment starts it from the first notification.

It also keeps, per aggregate, its kind, external reference, customer and opening event
time (from the creation event), so that a what-if over a period can find the aggregates
opened in it.

Verifications are recorded beside the chain (issue 13, item 11): counts per kind and
outcome, and each failure found, whichever process verified (``outcomes``), so that
``/metrics`` counts what ``journey verify`` found too.

Modules: ``chain`` (a link, and the comparison of stored events with their links),
``rows`` (what the chain keeps about each aggregate), ``tables``, ``follower``
(``AuditChain``: following the log), ``queries`` (links, verification one aggregate or a
batch at a time, the aggregates the chain knows, aggregates opened in a period) and
``outcomes`` (what verifications found).
"""

from projections.audit_chain.chain import (
    GENESIS,
    Link,
    Problem,
    ProblemKind,
    VerifyReport,
    as_uuid,
    compare,
    link,
)
from projections.audit_chain.follower import AuditChain
from projections.audit_chain.outcomes import (
    RecordedFailure,
    VerificationCount,
    Verified,
)
from projections.audit_chain.rows import REF_FIELDS, Subject, kind_of, utc_text

__all__ = [
    "GENESIS",
    "REF_FIELDS",
    "AuditChain",
    "Link",
    "Problem",
    "ProblemKind",
    "RecordedFailure",
    "Subject",
    "VerificationCount",
    "Verified",
    "VerifyReport",
    "as_uuid",
    "compare",
    "kind_of",
    "link",
    "utc_text",
]
