"""The queries: indexed lookups over the view tables, returning plain typed rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import islice
from typing import Any, NoReturn
from uuid import UUID

from sqlalchemy import Connection, and_, func, or_, select

from ledger.errors import UnknownFilter, UnknownSubject
from ledger.vocabulary import BUILTIN_AUTHORITIES, nearest
from projections import showing
from projections import statements as st
from projections.dialect import Stab, dialect_of
from projections.rows import (
    Change,
    Fact,
    Filters,
    HistoryEntry,
    Lane,
    Listing,
    PartyLink,
    Row,
    Stretch,
    SubjectReport,
    SubjectRow,
    Timeline,
    fact_of,
    listing_of,
    subject_row_of,
    window_of,
    window_text,
)
from projections.statements import known
from projections.tables import (
    LIVE,
    authority_key,
    event_authorities,
    event_subjects,
    log,
    periods,
    subjects,
)

# Their names here before they moved to ``projections.rows`` (other modules import them so).
_subject_row, _window, _listing, _fact = subject_row_of, window_of, listing_of, fact_of
__all__ = [
    "Change",
    "Fact",
    "Filters",
    "HistoryEntry",
    "Lane",
    "Listing",
    "PartyLink",
    "Row",
    "Stretch",
    "SubjectReport",
    "SubjectRow",
    "Timeline",
    "known",
    "window_text",
]


def subjects_known(conn: Connection, *, k: int) -> list[SubjectRow]:
    return list(iter_subjects(conn, k=k, stream=False))


def iter_subjects(conn: Connection, *, k: int, stream: bool = True) -> Iterator[SubjectRow]:
    """Every subject as known at ``k``, by id, as read (``stream``: see ``streamed``)."""
    stmt = select(subjects).where(known(subjects, k)).order_by(subjects.c.subject_id)
    for r in conn.execute(streamed(stmt, stream)):
        yield _subject_row(r)


STREAM_BATCH = 1000
"""Rows fetched at a time by a streamed query."""


def streamed(stmt: Any, stream: bool = True) -> Any:
    """The statement read a batch at a time (a server-side cursor on PostgreSQL, whose
    driver would otherwise fetch the whole answer first); not worth it for a short one."""
    return stmt.execution_options(yield_per=STREAM_BATCH) if stream else stmt


def runner(conn: Connection) -> showing.Run:
    """The prebuilt statements run on ``conn`` by name (see ``projections.showing``)."""

    def run(name: str, /, **params: Any) -> list[Any]:
        return list(conn.execute(st.STATEMENTS[name], params))

    return run


def unknown_subject(conn: Connection, k: int) -> showing.Unknown:
    """Raises ``UnknownSubject`` with the nearest known ids as hints."""

    def unknown(subject_id: str) -> NoReturn:
        ids = [s.subject_id for s in subjects_known(conn, k=k)]
        raise UnknownSubject(unknown_subject_text(subject_id, ids))

    return unknown


def unknown_subject_text(subject_id: str, ids: list[str]) -> str:
    hint = nearest(subject_id, ids)
    return f"unknown subject {subject_id!r}" + (
        f"; did you mean: {', '.join(hint)}?" if hint else ""
    )


def subject_at(conn: Connection, subject_id: str, *, k: int) -> SubjectRow:
    return showing.subject(runner(conn), subject_id, k, unknown_subject(conn, k))


def _periods_known(k: int) -> tuple[Any, Any]:
    """Periods rows as known at ``k``, with their subject's name and kind as known then."""
    s = subjects.alias("s")
    stmt = (
        select(periods, s.c.name.label("subject_name"), s.c.kind)
        .select_from(periods.join(s, and_(s.c.subject_id == periods.c.subject_id, known(s, k))))
        .where(known(periods, k))
    )
    return stmt, s


def _listing_query(conn: Connection, at: date, k: int, stab: Stab | None) -> Any:
    """Periods rows in force on ``at`` as known at ``k``; through the spatial index when
    ``stab`` is given (without it, a subject's few rows are found by its own index)."""
    stmt, s = _periods_known(k)
    stmt = stmt.where(
        periods.c.valid_from <= at,
        or_(periods.c.valid_to.is_(None), periods.c.valid_to >= at),
    )
    if stab is not None:
        stmt = stmt.where(dialect_of(conn).stab(LIVE, stab))
    return stmt, s


def _uncertain_query(conn: Connection, at: date, k: int, stab: Stab | None) -> Any:
    """First rows of periods whose uncertain start's window holds ``at``, as known at ``k``."""
    stmt, s = _periods_known(k)
    stmt = stmt.where(
        periods.c.possible_from <= at,
        periods.c.period_start > at,
        periods.c.valid_from == periods.c.period_start,
    )
    if stab is not None:
        stmt = stmt.where(dialect_of(conn).stab(LIVE, stab))
    return stmt, s


def listings(
    conn: Connection,
    *,
    at: date,
    k: int,
    authority: str | None = None,
    regime: str | None = None,
    measure: str | None = None,
    kind: str | None = None,
    subject_id: str | None = None,
    include_uncertain: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> list[Listing]:
    """Designations in force on ``at`` as known at ``k`` (rows ``offset``.. of the answer);
    with ``include_uncertain`` also those possibly in force then (``certain`` False: ``at``
    is in the window before a listing whose date the source did not give), after them."""
    filters = Filters(authority, regime, measure, kind, subject_id)
    if not include_uncertain:
        return list(
            iter_listings(
                conn, at=at, k=k, filters=filters, offset=offset, limit=limit, stream=False
            )
        )
    rows = iter_listings(conn, at=at, k=k, filters=filters, uncertain=True, stream=False)
    return list(islice(rows, offset, None if limit is None else offset + limit))


NO_FILTERS = Filters()


def iter_listings(
    conn: Connection,
    *,
    at: date,
    k: int,
    filters: Filters = NO_FILTERS,
    certain: bool = True,
    uncertain: bool = False,
    offset: int = 0,
    limit: int | None = None,
    stream: bool = True,
) -> Iterator[Listing]:
    """``listings`` as read, in constant memory: the ``certain`` rows, then (``uncertain``)
    those only possibly in force on ``at``; ``offset`` and ``limit`` apply to certain rows
    alone. ``stream`` False: for a caller that keeps every row anyway (see ``streamed``)."""

    def stab(name: str) -> Stab | None:
        if filters.subject_id:
            return None  # its own index finds a subject's few rows
        code = filters.authority
        return Stab(name, at, k, authority_key(code) if code else None)

    def filtered(stmt: Any, s: Any, table: Any = periods) -> Any:
        if filters.authority:
            stmt = stmt.where(table.c.authority == filters.authority)
        if filters.regime:
            stmt = stmt.where(table.c.regime == filters.regime)
        if filters.subject_id:
            stmt = stmt.where(table.c.subject_id == filters.subject_id)
        if filters.kind and s is not None:
            stmt = stmt.where(s.c.kind == filters.kind)
        if filters.measure:
            has = dialect_of(conn).json_array_has(table.c.measures, filters.measure)
            stmt = stmt.where(has)
        return stmt

    def ordered(stmt: Any, s: Any) -> Any:
        return filtered(stmt, s).order_by(
            periods.c.authority, periods.c.regime, s.c.name, periods.c.subject_id
        )

    if certain:
        stmt, s = _listing_query(conn, at, k, stab("in_force"))
        stmt = ordered(stmt, s)
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        for r in conn.execute(streamed(stmt, stream)):
            yield _listing(r)
    if not uncertain:
        return
    # After the certain rows, in the same order among themselves; a designation in force on
    # ``at`` (as the certain rows filter it) is left out, whatever its other periods say.
    p2 = periods.alias("p2")
    in_force = filtered(
        select(p2.c.designation_id).where(
            p2.c.designation_id == periods.c.designation_id,
            known(p2, k),
            p2.c.valid_from <= at,
            or_(p2.c.valid_to.is_(None), p2.c.valid_to >= at),
        ),
        None,
        p2,
    ).exists()
    stmt, s = _uncertain_query(conn, at, k, stab("window"))
    stmt = stmt.where(~in_force)
    stmt = ordered(stmt, s).order_by(periods.c.period_start)
    last = None
    for r in conn.execute(streamed(stmt, stream)):
        key = (r.subject_id, r.authority, r.regime)
        # Possible by two periods: one row, the earlier (a key's rows come together).
        if key != last:
            last = key
            yield _listing(r, certain=False)


def facts(
    conn: Connection,
    type_name: str,
    *,
    at: date | None,
    k: int,
    subject: str | None = None,
    authority: str | None = None,
) -> list[Fact]:
    """Announcements or rulings dated on or before ``at``, as known at ``k``."""
    if subject is not None:
        found = showing.facts_of(
            runner(conn)("EVENTS_OF_SUBJECT", subject_id=subject, k=k), type_name, at
        )
    else:
        known_now = or_(log.c.retracted_by.is_(None), log.c.retracted_by > k)
        stmt = select(log).where(log.c.type == type_name, log.c.position <= k, known_now)
        if at is not None:
            stmt = stmt.where(log.c.effective_date <= at)
        rows = [
            r
            for r in conn.execute(stmt)
            if at is None or (r.effective_date is not None and r.effective_date <= at)
        ]
        rows.sort(key=lambda r: (r.effective_date, r.position))
        found = [_fact(r) for r in rows]
    if authority is not None:
        found = [f for f in found if authority in f.authorities]
    return found


def show(conn: Connection, subject_id: str, *, at: date, k: int) -> SubjectReport:
    """The subject's own report, its party left aside (``parties.show`` adds it)."""
    return showing.alone(runner(conn), subject_id, at, k, unknown_subject(conn, k))


def timeline(conn: Connection, subject_id: str, *, k: int) -> Timeline:
    """Every stretch of every designation of the subject, in all valid time, as known at ``k``."""
    subject = subject_at(conn, subject_id, k=k)
    rows = conn.execute(
        select(periods)
        .where(periods.c.subject_id == subject_id, known(periods, k))
        .order_by(periods.c.authority, periods.c.regime, periods.c.valid_from)
    )
    lanes: dict[tuple[str, str], list[Stretch]] = {}
    for r in rows:
        listed_after, start_unknown = _window(r.possible_from)
        lanes.setdefault((r.authority, r.regime), []).append(
            Stretch(
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                period_start=r.period_start,
                period_end=r.period_end,
                measures=sorted(r.measures),
                previous_measures=sorted(r.previous_measures)
                if r.previous_measures is not None
                else None,
                legal_act=r.legal_act,
                reason=r.reason,
                ended_by=r.ended_by,
                listed_after=listed_after,
                start_unknown=start_unknown,
            )
        )
    return Timeline(
        subject=subject,
        known_at=k,
        lanes=[Lane(a, g, stretches) for (a, g), stretches in lanes.items()],
        rulings=facts(conn, "ruling_recorded", at=None, k=k, subject=subject_id),
        announcements=facts(conn, "announced", at=None, k=k, subject=subject_id),
    )


def history(conn: Connection, subject_id: str, *, k: int) -> list[HistoryEntry]:
    """Every event touching the subject, in order of record, as known at ``k``."""
    from projections.streams import iter_history

    return list(iter_history(conn, subject_id, k=k))


def _data_window(data: dict[str, Any]) -> str | None:
    """The window of a designation's logged data (dates as ISO text), in words."""
    after, unknown = data.get("listed_after"), bool(data.get("start_unknown"))
    if after is None and not unknown:
        return None
    return window_text(
        date.fromisoformat(after) if after else None,
        unknown,
        date.fromisoformat(data["effective"]),
    )


def diff(
    conn: Connection, start: date, end: date, *, k: int, authority: str | None = None
) -> list[Change]:
    """Period starts, period ends and changes of measures effective in (start, end]."""
    from projections.streams import iter_diff

    return list(iter_diff(conn, start, end, k=k, authority=authority))


def referencing(
    conn: Connection, *, subject: str | None = None, authority: str | None = None
) -> tuple[int, dict[UUID, int]]:
    """Of positions 1..P (what the projections hold), the aggregates with events about
    ``subject`` or by ``authority``, each with its first such position: what retracting a
    registration must check, found by index instead of a scan of the whole log."""
    from projections.catchup import tracked_position

    found: dict[UUID, int] = {}
    # First the position: rows committed after it only add to what is found.
    covered = tracked_position(conn) or 0
    if covered == 0:
        return 0, found
    if subject is not None:
        rows = conn.execute(
            select(log.c.aggregate_id, func.min(log.c.position))
            .join(event_subjects, event_subjects.c.position == log.c.position)
            .where(event_subjects.c.subject_id == subject)
            .group_by(log.c.aggregate_id)
        )
        found.update((UUID(a), int(p)) for a, p in rows)
    if authority is not None:
        # Designations through their periods (every designation has some, closed ones
        # included), by the spatial index's authority; announcements and list imports by the
        # authorities they name.
        stab = Stab("in_force", None, None, authority_key(authority))
        rows = conn.execute(
            select(periods.c.designation_id, func.min(periods.c.rec_from))
            .where(dialect_of(conn).stab(LIVE, stab), periods.c.authority == authority)
            .group_by(periods.c.designation_id)
        )
        found.update((UUID(a), int(p)) for a, p in rows)
        rows = conn.execute(
            select(log.c.aggregate_id, func.min(log.c.position))
            .join(event_authorities, event_authorities.c.position == log.c.position)
            .where(event_authorities.c.authority == authority)
            .group_by(log.c.aggregate_id)
        )
        for a, p in rows:
            key = UUID(a)
            found[key] = min(found.get(key, int(p)), int(p))
    return covered, found


# --------------------------------------------------------------------------- empty answers


def check_filters(
    conn: Connection,
    *,
    authority: str | None = None,
    regime: str | None = None,
    subject: str | None = None,
) -> None:
    """For an empty answer: refuse filters that name nothing the ledger ever recorded.
    A mistyped authority, regime (``EUR``, a regime's case) or subject would otherwise be
    answered "nothing in force": a confident "not sanctioned" from a typo."""
    if subject is not None:
        named = select(subjects.c.subject_id).where(subjects.c.subject_id == subject)
        if conn.execute(named.limit(1)).first() is None:
            ids = list(conn.execute(select(subjects.c.subject_id).distinct()).scalars())
            raise UnknownFilter(unknown_subject_text(subject, ids))
    if authority is not None:
        known = sorted(set(BUILTIN_AUTHORITIES) | set(registered_authorities(conn)))
        if authority not in known:
            close = nearest(authority, known)
            raise UnknownFilter(
                f"unknown authority {authority!r}; "
                + (f"did you mean: {', '.join(close)}?" if close else f"known: {', '.join(known)}")
            )
    if regime is not None:
        where = [periods.c.regime == regime]
        if authority is not None:
            where.append(periods.c.authority == authority)
        if conn.execute(select(periods.c.id).where(*where).limit(1)).first() is not None:
            return
        recorded = select(periods.c.regime).distinct()
        if authority is not None:
            recorded = recorded.where(periods.c.authority == authority)
        by_case = {r.casefold(): r for r in conn.execute(recorded).scalars()}
        close = [by_case[r] for r in nearest(regime.casefold(), list(by_case))]
        by = f" by {authority}" if authority is not None else ""
        raise UnknownFilter(
            f"no designation{by} was ever recorded under the regime {regime!r} (regimes are "
            "matched exactly)"
            + (f"; did you mean: {', '.join(repr(r) for r in close)}?" if close else "")
        )


def registered_authorities(conn: Connection) -> list[str]:
    """The codes of the authorities registered beyond the built-in ones."""
    rows = conn.execute(select(log.c.data).where(log.c.type == "authority_registered"))
    return [str(data["code"]).upper() for (data,) in rows]
