"""The hot read statements, built once (SQLAlchemy Core, values as bind parameters).

Building a statement per request was most of a subject request's CPU in the server; these
are constructed when the module loads and only executed after that. They are also the one
source of the SQL that the SQLite fast path runs without SQLAlchemy: ``scripts/
compile_statements.py`` compiles ``STATEMENTS`` into ``projections/compiled.py``, and a test
fails when that file differs from a fresh compilation.

Parameters: ``k`` (the last position known), ``at`` (a day), ``subject_id``, ``ids`` (a list
of subject ids), ``moment`` (a record time as the log stores it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Date,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
)

from projections.tables import event_subjects, links, log, periods, subjects, tracking

TRACKING_NAME = "views"
"""The catch-up's row in ``view_tracking`` (``projections.catchup``)."""


def known(table: Any, k: Any) -> ColumnElement[bool]:
    """Rows that hold as known right after position ``k``."""
    return and_(table.c.rec_from <= k, or_(table.c.rec_to.is_(None), table.c.rec_to > k))


K = bindparam("k", type_=BigInteger)
AT = bindparam("at", type_=Date)
SUBJECT: BindParameter[str] = bindparam("subject_id")
IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)

TRACKED = select(tracking.c.position, tracking.c.schema_version).where(
    tracking.c.name == TRACKING_NAME
)
"""Where the projections stand, and the schema they were built with."""

LAST_RECORDED_BY = select(func.max(log.c.position).label("position")).where(
    log.c.recorded_at <= bindparam("moment")
)
"""The last position recorded at or before ``moment`` (``--known-at`` a time)."""

SUBJECT_AT = select(subjects).where(subjects.c.subject_id == SUBJECT, known(subjects, K))
"""One subject as known at ``k``."""


def _periods_of_subject(many: bool = False) -> tuple[Select[Any], Any]:
    s = subjects.alias("s")
    which = periods.c.subject_id.in_(IDS) if many else periods.c.subject_id == SUBJECT
    stmt = (
        select(periods, s.c.name.label("subject_name"), s.c.kind)
        .select_from(periods.join(s, and_(s.c.subject_id == periods.c.subject_id, known(s, K))))
        .where(known(periods, K), which)
    )
    return stmt, s


def _listed(many: bool = False) -> Select[Any]:
    stmt, s = _periods_of_subject(many)
    return stmt.where(
        periods.c.valid_from <= AT, or_(periods.c.valid_to.is_(None), periods.c.valid_to >= AT)
    ).order_by(periods.c.authority, periods.c.regime, s.c.name, periods.c.subject_id)


def _possibly_listed(many: bool = False) -> Select[Any]:
    # As ``queries.iter_listings`` with ``uncertain``: a designation in force on ``at`` is
    # left out, whatever its other periods say.
    p2 = periods.alias("p2")
    in_force = (
        select(p2.c.designation_id)
        .where(
            p2.c.designation_id == periods.c.designation_id,
            known(p2, K),
            p2.c.valid_from <= AT,
            or_(p2.c.valid_to.is_(None), p2.c.valid_to >= AT),
            p2.c.subject_id == (periods.c.subject_id if many else SUBJECT),
        )
        .exists()
    )
    stmt, s = _periods_of_subject(many)
    return stmt.where(
        periods.c.possible_from <= AT,
        periods.c.period_start > AT,
        periods.c.valid_from == periods.c.period_start,
        ~in_force,
    ).order_by(
        periods.c.authority,
        periods.c.regime,
        s.c.name,
        periods.c.subject_id,
        periods.c.period_start,
    )


LISTED = _listed()
"""The subject's designations in force on ``at`` as known at ``k``."""

POSSIBLY_LISTED = _possibly_listed()
"""The subject's designations possibly in force on ``at`` (an uncertain start's window)."""

LISTED_OF = _listed(many=True)
"""``LISTED`` of each of ``ids`` (a search's hits and their parties), in one statement."""

POSSIBLY_LISTED_OF = _possibly_listed(many=True)
"""``POSSIBLY_LISTED`` of each of ``ids``."""

# The subject's few events by its index, then those rows by primary key; a filter on the type
# would lead a planner to walk every ruling of the ledger instead.
EVENTS_OF_SUBJECT = select(log).where(
    log.c.position.in_(
        select(event_subjects.c.position).where(
            event_subjects.c.subject_id == SUBJECT, event_subjects.c.position <= K
        )
    ),
    or_(log.c.retracted_by.is_(None), log.c.retracted_by > K),
)
"""The log rows about the subject up to ``k``, retracted ones left out (rulings and
announcements are picked from them)."""

LINKS_OF = select(links).where(
    or_(links.c.subject_a.in_(IDS), links.c.subject_b.in_(IDS)), known(links, K)
)
"""The links standing at ``k`` that touch any of ``ids``."""

LINK_EVENTS = select(log).where(
    log.c.position.in_(
        select(event_subjects.c.position).where(
            event_subjects.c.subject_id.in_(IDS), event_subjects.c.position <= K
        )
    ),
    log.c.type == "linked",
)
"""The ``linked`` events about any of ``ids`` up to ``k``."""

HISTORY = (
    select(log)
    .join(event_subjects, event_subjects.c.position == log.c.position)
    .where(event_subjects.c.subject_id == SUBJECT, log.c.position <= K)
    .order_by(log.c.position)
)
"""Every event touching the subject, in order of record, up to ``k``."""

STATEMENTS: dict[str, Select[Any]] = {
    "TRACKED": TRACKED,
    "LAST_RECORDED_BY": LAST_RECORDED_BY,
    "SUBJECT_AT": SUBJECT_AT,
    "LISTED": LISTED,
    "POSSIBLY_LISTED": POSSIBLY_LISTED,
    "LISTED_OF": LISTED_OF,
    "POSSIBLY_LISTED_OF": POSSIBLY_LISTED_OF,
    "EVENTS_OF_SUBJECT": EVENTS_OF_SUBJECT,
    "LINKS_OF": LINKS_OF,
    "LINK_EVENTS": LINK_EVENTS,
    "HISTORY": HISTORY,
}
"""By name: what ``projections.showing`` runs, and what the fast path has compiled."""
