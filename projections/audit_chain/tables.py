"""The audit chain's tables: ``audit_chain`` (one link per aggregate and version) and
``audit_subjects`` (per aggregate: what its creation event says, and the head of its
chain)."""

from __future__ import annotations

TABLES = ("audit_chain", "audit_subjects")

DDL = (
    "CREATE TABLE IF NOT EXISTS audit_chain ("
    " aggregate_id TEXT NOT NULL, version BIGINT NOT NULL,"
    " notification_id BIGINT NOT NULL, hash TEXT NOT NULL,"
    " PRIMARY KEY (aggregate_id, version))",
    "CREATE TABLE IF NOT EXISTS audit_subjects ("
    " aggregate_id TEXT PRIMARY KEY, kind TEXT NOT NULL, ref TEXT,"
    " customer_id TEXT, opened_at TEXT,"
    " head_version BIGINT NOT NULL, head_hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_subjects_opened ON audit_subjects (opened_at, kind)",
)
