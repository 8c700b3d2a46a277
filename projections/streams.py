"""Answers read as they are printed: a subject's history, a diff, announcements and rulings.

Each is a generator over SQL cursors iterated a batch at a time (``queries.streamed``) in
the order of the answer, so the first row comes before the last is read, in constant
memory. ``queries.history`` and ``queries.diff`` are these, kept whole.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, case, literal, or_, select

from projections.dialect import Stab, dialect_of
from projections.queries import (
    Change,
    Fact,
    HistoryEntry,
    _data_window,
    _fact,
    _periods_known,
    _window,
    facts,
    streamed,
    subject_at,
    window_text,
)
from projections.statements import HISTORY
from projections.tables import LIVE, authority_key, log, periods


def iter_history(conn: Connection, subject_id: str, *, k: int) -> Iterator[HistoryEntry]:
    """Every event touching the subject, in order of record, as known at ``k``."""
    empty = True
    for r in conn.execute(streamed(HISTORY), {"subject_id": subject_id, "k": k}):
        empty = False
        yield HistoryEntry(
            position=r.position,
            type=r.type,
            effective_date=r.effective_date,
            recorded_at=r.recorded_at,
            recorded_by=r.recorded_by,
            sources=list(r.data.get("sources", [])),
            retracted_by=r.retracted_by
            if r.retracted_by is not None and r.retracted_by <= k
            else None,
            retracts=r.retracts,
            data=dict(r.data),
            window=_data_window(r.data),
        )
    if empty:
        subject_at(conn, subject_id, k=k)  # raises with hints when unknown


_ORDER = {"possibly added": 0, "added": 0, "changed": 1, "removed": 2}


def _key(c: Change) -> tuple[Any, ...]:
    return (c.effective_date, c.authority, c.subject_id, _ORDER[c.change], c.regime)


def iter_diff(
    conn: Connection, start: date, end: date, *, k: int, authority: str | None = None
) -> Iterator[Change]:
    """Period starts, period ends and changes of measures effective in (start, end], in
    order of (date, authority, subject, change, regime).

    Three indexed reads, each of the rows dated in the range (not of every period): rows
    beginning in it (``view_periods_starts``: starts and changes), rows ending in it
    (``view_periods_ends``), and windows holding ``end`` (the spatial index). Each is read
    in that order and the three are merged as read (ties: in this order, as before).
    """
    base, _ = _periods_known(k)
    if authority:
        base = base.where(periods.c.authority == authority)

    def text(column: Any) -> Any:
        # Ordered as Python orders str (code points), for the merge: PostgreSQL's
        # collation would order otherwise.
        return column.collate("C") if conn.dialect.name == "postgresql" else column

    def ordered(stmt: Any, day: Any, *then: Any) -> Any:
        return streamed(
            stmt.order_by(
                day,
                text(periods.c.authority),
                text(periods.c.subject_id),
                *then,
                text(periods.c.regime),
            )
        )

    return heapq.merge(
        _started(conn, base, start, end, ordered),
        _possibly_added(conn, base, start, end, k, authority, ordered),
        _ended(conn, base, start, end, ordered),
        key=_key,
    )


def _change(kind: str, r: Any, day: date, details: dict[str, Any]) -> Change:
    return Change(kind, r.subject_id, r.subject_name, r.authority, r.regime, day, details)


def _started(conn: Connection, base: Any, start: date, end: date, ordered: Any) -> Iterator[Change]:
    stmt = base.where(periods.c.valid_from > start, periods.c.valid_from <= end)
    added_first = case((periods.c.valid_from == periods.c.period_start, 0), else_=1)
    for r in conn.execute(ordered(stmt, periods.c.valid_from, added_first)):
        if r.valid_from == r.period_start:
            yield _change(
                "added",
                r,
                r.period_start,
                {
                    "measures": sorted(r.measures),
                    "legal_act": r.legal_act,
                    "listed_until": r.period_end,
                    "window": window_text(*_window(r.possible_from), r.period_start),
                },
            )
            continue
        if r.previous_measures is None:
            continue
        before, after = set(r.previous_measures), set(r.measures)
        if before != after:
            yield _change(
                "changed",
                r,
                r.valid_from,
                {
                    "added_measures": sorted(after - before),
                    "removed_measures": sorted(before - after),
                    "measures": sorted(after),
                    "legal_act": r.legal_act,
                },
            )


def _possibly_added(
    conn: Connection,
    base: Any,
    start: date,
    end: date,
    k: int,
    authority: str | None,
    ordered: Any,
) -> Iterator[Change]:
    # A period certain only after ``end`` whose window reaches into (start, end]: possibly
    # added then, dated on the first day of the window in the range.
    first = start + timedelta(days=1)
    stab = Stab("window", end, k, authority_key(authority) if authority else None)
    stmt = base.where(
        dialect_of(conn).stab(LIVE, stab),
        periods.c.possible_from <= end,
        periods.c.period_start > end,
        periods.c.valid_from == periods.c.period_start,
    )
    day = case(
        (periods.c.possible_from > start, periods.c.possible_from),
        else_=literal(first, periods.c.possible_from.type),
    )
    for r in conn.execute(ordered(stmt, day)):
        listed_after, start_unknown = _window(r.possible_from)
        yield _change(
            "possibly added",
            r,
            max(r.possible_from, first),
            {
                "window": window_text(listed_after, start_unknown, r.period_start),
                "measures": sorted(r.measures),
                "legal_act": r.legal_act,
                "listed_until": r.period_end,
            },
        )


def _ended(conn: Connection, base: Any, start: date, end: date, ordered: Any) -> Iterator[Change]:
    stmt = base.where(
        periods.c.valid_to >= start,
        periods.c.valid_to < end,
        periods.c.valid_to == periods.c.period_end,
    )
    # Dated the day after valid_to (= period_end here): ordered by the index's column.
    for r in conn.execute(ordered(stmt, periods.c.valid_to)):
        yield _change(
            "removed",
            r,
            r.period_end + timedelta(days=1),
            {"ended_by": r.ended_by, "listed_from": r.period_start, "listed_until": r.period_end},
        )


def iter_facts(
    conn: Connection,
    type_name: str,
    *,
    at: date | None,
    k: int,
    subject: str | None = None,
    authority: str | None = None,
) -> Iterator[Fact]:
    """``queries.facts`` as read: by date and position from the (type, date) index. A
    subject's few are read whole by ``queries.facts`` (through the subject's index)."""
    if subject is not None:
        yield from facts(conn, type_name, at=at, k=k, subject=subject, authority=authority)
        return
    known_now = or_(log.c.retracted_by.is_(None), log.c.retracted_by > k)
    stmt = select(log).where(log.c.type == type_name, log.c.position <= k, known_now)
    if at is not None:
        stmt = stmt.where(log.c.effective_date <= at)
    stmt = stmt.order_by(log.c.effective_date, log.c.position)
    for r in conn.execute(streamed(stmt)):
        if at is not None and (r.effective_date is None or r.effective_date > at):
            continue
        fact = _fact(r)
        if authority is None or authority in fact.authorities:
            yield fact
