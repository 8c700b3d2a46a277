"""The read-model tables (SQLAlchemy Core), in the same database as the event store.

Record time is a ledger position throughout: a row holds for ``--known-at K`` when
``rec_from <= K`` and (``rec_to`` is null or ``rec_to > K``). Valid time is in days,
``valid_to`` inclusive and null when open.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 3
"""Bump when a table changes: projections older than this are rebuilt from the log."""

metadata = MetaData()

tracking = Table(
    "view_tracking",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("schema_version", Integer, nullable=False),
)

log = Table(
    "view_log",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_date", Date),
    Column("recorded_at", String(32), nullable=False),  # UTC ISO, fixed width: sorts as time
    Column("recorded_by", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("retracts", BigInteger),
    Column("retracted_by", BigInteger),
    Index("view_log_recorded_at", "recorded_at"),
    Index("view_log_type_date", "type", "effective_date"),
)

event_subjects = Table(
    "view_event_subjects",
    metadata,
    Column("subject_id", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
)

subjects = Table(
    "view_subjects",
    metadata,
    Column("subject_id", Text, nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("rec_to", BigInteger),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("birth_date", Date),
    Column("alt_birth_dates", JSON),  # ISO dates; null: none
    Column("nationality", Text),
    Column("position_title", Text),
    Index("view_subjects_id", "subject_id", "rec_from", unique=True),
)

periods = Table(
    "view_periods",
    metadata,
    Column("designation_id", String(36), nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("rec_to", BigInteger),
    Column("subject_id", Text, nullable=False),
    Column("authority", String(40), nullable=False),
    Column("regime", Text, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    Column("measures", JSON, nullable=False),
    Column("previous_measures", JSON),
    Column("until", Date),
    Column("legal_act", Text),
    Column("reason", Text),
    Column("ended_by", String(20)),
    # The period may have begun on this day or later (0001-01-01: any day before); null when
    # its start is certain. Rows with one answer "possibly listed" before period_start.
    Column("possible_from", Date),
    Index("view_periods_key", "designation_id", "rec_from", "valid_from", unique=True),
    Index("view_periods_possible", "possible_from"),
    Index("view_periods_authority", "authority", "valid_from"),
    Index("view_periods_subject", "subject_id", "valid_from"),
)

# One row per stretch of record time in which two subjects' link stood (projections.parties).
links = Table(
    "view_links",
    metadata,
    Column("link_id", String(36), nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("rec_to", BigInteger),
    Column("subject_a", Text, nullable=False),
    Column("subject_b", Text, nullable=False),
    Column("link_version", Integer, nullable=False),
    # the version of the ``linked`` event in effect (its reason is in view_log)
    Index("view_links_a", "subject_a", "rec_from"),
    Index("view_links_b", "subject_b", "rec_from"),
    Index("view_links_id", "link_id", "rec_from", unique=True),
)

VIEW_TABLES = [tracking, log, event_subjects, subjects, periods, links]
