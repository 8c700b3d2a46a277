"""The read-model tables (SQLAlchemy Core), in the same database as the event store.

Record time is a ledger position throughout: a row holds for ``--known-at K`` when
``rec_from <= K`` and (``rec_to`` is null or ``rec_to > K``). Valid time is in days,
``valid_to`` inclusive and null when open.

Besides these B-trees, ``view_periods`` has two spatial indexes over (authority, valid time,
record time), made by ``projections/dialect.py`` (SQLite R*Tree tables kept by triggers,
PostgreSQL GiST): what is in force on a day as known at a position is one stab into them,
touching only the periods that overlap that day and position.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields
from typing import Any

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
    UniqueConstraint,
)

# 4: two branches each called their new tables version 3 (spatial indexes; the search
# index); a ledger opened by either alone must rebuild too.
# 5: the matcher's words keep an apostrophe's word whole (Sa'd), so the search index's
# stored words and keys changed (matcher version 3).
# 6: the search index's keys of each distinct words (``view_search_words``), and the names
# by their words: a search weighs the few distinct names, not every namesake.
# 7: view_event_authorities, so that retracting an authority's registration finds the
# announcements and list imports naming it by index (it decoded every announcement). Both
# were built as 6 on their own branches: a ledger opened by either alone must rebuild too.
# 8: on PostgreSQL a B-tree of the periods' authority key: the spatial index's authority
# dimension made retracting a new authority's registration read most of it (146 ms at 1M).
# 9: the matcher's words read an Arabic ta marbuta as a vowel (matcher version 5), so the
# search index's stored words and keys of names in Arabic script changed. Both were built
# as 8 on their own branches: a ledger opened by either alone must rebuild too.
SCHEMA_VERSION = 9
"""Bump when a table changes: projections older than this are rebuilt from the log."""

metadata = MetaData()

# A rowid alias on SQLite (no separate primary key B-tree); BIGINT on PostgreSQL.
Key = BigInteger().with_variant(Integer(), "sqlite")

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
    # Not a rowid alias: a rebuild writes the log aggregate by aggregate, and a table keyed
    # by position would then fill its pages at random (measured: 15% larger at 100k events).
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_date", Date),
    Column("recorded_at", String(32), nullable=False),  # UTC ISO, fixed width: sorts as time
    Column("recorded_by", Text, nullable=False),
    Column("data", JSON, nullable=False),
    # No copy of the event's digest: nothing reads it here (the store has it), and it was
    # 64 bytes an event.
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
    sqlite_with_rowid=False,  # the key is the row: one B-tree, not a table and an index
)

# The authorities an announcement or a list import names (designations are found through
# their periods): what retracting an authority's registration must check.
event_authorities = Table(
    "view_event_authorities",
    metadata,
    Column("authority", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
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
    UniqueConstraint("subject_id", "rec_from"),  # a constraint: see view_periods
)

periods = Table(
    "view_periods",
    metadata,
    # Given by the catch-up (max + 1): the spatial indexes point at rows by it.
    Column("id", Key, primary_key=True, autoincrement=False),
    Column("designation_id", String(36), nullable=False),
    Column("rec_from", BigInteger, nullable=False),
    Column("rec_to", BigInteger),
    Column("subject_id", Text, nullable=False),
    Column("authority", String(40), nullable=False),
    Column("authority_key", Integer, nullable=False),  # authority_key(authority)
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
    # A constraint rather than a named index: it is needed while a rebuild fills fresh
    # tables, and its index follows the table when they are renamed into place.
    UniqueConstraint("designation_id", "rec_from", "valid_from"),
    Index("view_periods_subject", "subject_id", "valid_from"),
    Index("view_periods_starts", "valid_from"),  # diff: what started or changed in a range
    Index("view_periods_ends", "valid_to"),  # diff: what ended in a range
)

# The search index (``projections/name_index.py``): every name and alias a subject has held,
# over the record time it held it, as the matcher's folded words; and its keys.
search_names = Table(
    "view_search_names",
    metadata,
    # (rec_from, ordinal) names a row: one event changes one subject, ordinal counts its
    # names opened by that event.
    Column("rec_from", BigInteger, primary_key=True, autoincrement=False),
    Column("ordinal", Integer, primary_key=True, autoincrement=False),
    Column("rec_to", BigInteger),
    Column("subject_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("words", Text, nullable=False),  # the matcher's words, space-separated
    # A constraint rather than a named index (unique through the key it carries): the
    # catch-up closes a subject's open names through it, while a rebuild fills fresh tables
    # too (they have no secondary indexes until the swap).
    UniqueConstraint("subject_id", "rec_to", "rec_from", "ordinal"),
    Index("view_search_names_closed", "rec_to"),
    # A search's names of some words in order, known at K, without reading the rows.
    Index("view_search_names_words", "words", "rec_from", "ordinal", "rec_to"),
)

search_keys = Table(
    "view_search_keys",
    metadata,
    Column("key", Text, primary_key=True),
    Column("rec_from", BigInteger, primary_key=True, autoincrement=False),
    Column("ordinal", Integer, primary_key=True, autoincrement=False),
    Column("rec_to", BigInteger),  # its name's, so that a search filters without a join
    sqlite_with_rowid=False,
)

search_words = Table(
    "view_search_words",
    metadata,
    # The keys of every distinct words any name has held (namesakes share one set): never
    # closed, the names say who holds the words when.
    Column("key", Text, primary_key=True),
    Column("words", Text, primary_key=True),
    sqlite_with_rowid=False,
)

search_terms = Table(
    "view_search_terms",
    metadata,
    # How many names held as of the head hold the key ('' counts every name): its weight.
    Column("key", Text, primary_key=True),
    Column("names", BigInteger, nullable=False),
    sqlite_with_rowid=False,
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

SURROGATE = {("view_periods", "id")}
"""Columns whose values depend on the order rows were written in, not on the log."""


def content_columns(table: Table) -> list[Column[Any]]:
    """The columns that two builds of the same log agree on (``id`` is order-dependent)."""
    base = table.name.removesuffix(FRESH)
    return [c for c in table.c if (base, c.name) not in SURROGATE]


def authority_key(code: str) -> int:
    """A small integer standing for an authority in the spatial indexes.

    A hash, so that every process derives the same one without a shared table; two codes
    that collide only make a stab read the other's rows too (the query filters on the code).
    """
    return zlib.crc32(code.encode()) & 0x7FFFFFFF


FRESH = "__fresh"
"""The suffix of the tables a rebuild fills before they replace the live ones."""


@dataclass(frozen=True)
class Tables:
    """One set of the projection tables: the live ones, or a rebuild's fresh ones."""

    tracking: Table
    log: Table
    event_subjects: Table
    event_authorities: Table
    subjects: Table
    periods: Table
    search_names: Table
    search_keys: Table
    search_terms: Table
    links: Table
    search_words: Table
    suffix: str = ""

    def all(self) -> list[Table]:
        """Every table of the set, in the order of the fields above."""
        return [getattr(self, f.name) for f in fields(self) if f.name != "suffix"]


LIVE = Tables(
    tracking,
    log,
    event_subjects,
    event_authorities,
    subjects,
    periods,
    search_names,
    search_keys,
    search_terms,
    links,
    search_words,
)

VIEW_TABLES = LIVE.all()
"""Every projection table, in the order they are created."""


def fresh_tables() -> Tables:
    """Copies of the tables named ``<name>__fresh``, with their keys but no secondary index
    (built once, after the load, when the fresh tables are swapped in)."""
    fresh = MetaData()
    copies = []
    for table in VIEW_TABLES:
        copy = table.to_metadata(fresh, name=table.name + FRESH)
        for index in list(copy.indexes):
            copy.indexes.discard(index)
        copies.append(copy)
    t, lg, es, ea, sj, pe, sn, sk, st, lk, sw = copies
    return Tables(t, lg, es, ea, sj, pe, sn, sk, st, lk, sw, suffix=FRESH)


def secondary_indexes(table: Table) -> list[Index]:
    """The live table's named indexes, for building them after a bulk load."""
    return sorted(table.indexes, key=lambda i: str(i.name))
