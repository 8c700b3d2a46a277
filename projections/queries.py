"""The queries: indexed lookups over the view tables, returning plain typed rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from ledger.errors import UnknownSubject
from ledger.timeline import UNKNOWN_START
from ledger.vocabulary import nearest
from projections.dialect import Stab, dialect_of
from projections.tables import LIVE, authority_key, event_subjects, log, periods, subjects


class Row:
    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class SubjectRow(Row):
    subject_id: str
    name: str
    kind: str
    aliases: list[str]
    birth_date: date | None
    nationality: str | None
    position: str | None
    alt_birth_dates: list[date] = field(default_factory=list)
    """Other birth dates the sources give ("alt. DOB")."""


@dataclass(frozen=True)
class Listing(Row):
    subject_id: str
    subject_name: str
    kind: str
    authority: str
    regime: str
    measures: list[str]
    listed_from: date
    listed_until: date | None
    legal_act: str | None
    reason: str | None
    certain: bool = True
    """False: the day asked about lies in the window before ``listed_from`` in which the
    listing, whose date the source did not give, may have happened: possibly listed."""
    listed_after: date | None = None
    """The start is uncertain: possibly listed since the day after this one."""
    start_unknown: bool = False
    """The start is uncertain: possibly listed on any day before ``listed_from``."""

    def window(self) -> str | None:
        """The uncertain start in words, or None when the start is certain."""
        return window_text(self.listed_after, self.start_unknown, self.listed_from)


def window_text(listed_after: date | None, start_unknown: bool, certain_from: date) -> str | None:
    """``listed on some date between 2021-06-02 and 2021-07-07; certain from 2021-07-07``."""
    if listed_after is not None:
        first = listed_after + timedelta(days=1)
        window = f"between {first} and {certain_from}"
    elif start_unknown:
        window = f"on or before {certain_from}"
    else:
        return None
    return f"listed on some date {window}; certain from {certain_from}"


@dataclass(frozen=True)
class Fact(Row):
    position: int
    type: str
    date: date
    title: str | None
    court: str | None
    outcome: str | None
    summary: str | None
    authorities: list[str]
    subjects: list[str]
    annuls: str | None
    sources: list[str]
    recorded_at: str


@dataclass(frozen=True)
class PartyLink(Row):
    """A ``linked`` event standing: two subjects recorded as one party, and why."""

    position: int
    subjects: list[str]
    reason: str
    despite: str | None
    recorded_at: str
    recorded_by: str
    sources: list[str]


@dataclass(frozen=True)
class SubjectReport(Row):
    subject: SubjectRow
    designations: list[Listing]
    """Those of the whole party (each row names its subject)."""
    rulings: list[Fact]
    announcements: list[Fact]
    party: list[SubjectRow] = field(default_factory=list)
    """The other subjects linked with it as one party (as known then)."""
    links: list[PartyLink] = field(default_factory=list)
    """The links that make the party."""


@dataclass(frozen=True)
class HistoryEntry(Row):
    position: int
    type: str
    effective_date: date | None
    recorded_at: str
    recorded_by: str
    sources: list[str]
    retracted_by: int | None
    retracts: int | None
    data: dict[str, Any]
    window: str | None = None
    """A designation whose start the source left uncertain, in words (see ``window_text``)."""


@dataclass(frozen=True)
class Change(Row):
    change: str
    subject_id: str
    subject_name: str
    authority: str
    regime: str
    effective_date: date
    details: dict[str, Any]


@dataclass(frozen=True)
class Stretch(Row):
    """Days ``valid_from``..``valid_to`` of one designation with constant terms."""

    valid_from: date
    valid_to: date | None
    period_start: date
    period_end: date | None
    measures: list[str]
    previous_measures: list[str] | None
    legal_act: str | None
    reason: str | None
    ended_by: str | None
    listed_after: date | None = None
    """An uncertain start: possibly listed since the day after this one (the timeline shades
    the window)."""
    start_unknown: bool = False
    """An uncertain start: possibly listed on any day before ``period_start``."""


@dataclass(frozen=True)
class Lane(Row):
    """One authority and regime of a subject's timeline: every stretch in valid time."""

    authority: str
    regime: str
    stretches: list[Stretch]


@dataclass(frozen=True)
class Timeline(Row):
    """A subject's whole story in valid time, as known at one position."""

    subject: SubjectRow
    known_at: int
    lanes: list[Lane]
    rulings: list[Fact]
    announcements: list[Fact]


def known(table: Any, k: int) -> ColumnElement[bool]:
    """Rows that hold as known right after position ``k``."""
    return and_(table.c.rec_from <= k, or_(table.c.rec_to.is_(None), table.c.rec_to > k))


def _subject_row(r: Any) -> SubjectRow:
    return SubjectRow(
        r.subject_id,
        r.name,
        r.kind,
        list(r.aliases),
        r.birth_date,
        r.nationality,
        r.position_title,
        [date.fromisoformat(d) for d in r.alt_birth_dates or ()],
    )


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


def subject_at(conn: Connection, subject_id: str, *, k: int) -> SubjectRow:
    r = conn.execute(
        select(subjects).where(subjects.c.subject_id == subject_id, known(subjects, k))
    ).first()
    if r is None:
        ids = [s.subject_id for s in subjects_known(conn, k=k)]
        hint = nearest(subject_id, ids)
        raise UnknownSubject(
            f"unknown subject {subject_id!r}"
            + (f"; did you mean: {', '.join(hint)}?" if hint else "")
        )
    return _subject_row(r)


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


def _window(possible: date | None) -> tuple[date | None, bool]:
    """(listed_after, start_unknown) from a periods row's ``possible_from``."""
    if possible is None:
        return None, False
    if possible == UNKNOWN_START:
        return None, True
    return possible - timedelta(days=1), False


def _listing(r: Any, certain: bool = True) -> Listing:
    listed_after, start_unknown = _window(r.possible_from)
    return Listing(
        subject_id=r.subject_id,
        subject_name=r.subject_name,
        kind=r.kind,
        authority=r.authority,
        regime=r.regime,
        measures=sorted(r.measures),
        listed_from=r.period_start,
        listed_until=r.period_end,
        legal_act=r.legal_act,
        reason=r.reason,
        certain=certain,
        listed_after=listed_after,
        start_unknown=start_unknown,
    )


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


@dataclass(frozen=True)
class Filters:
    """What a list of designations is narrowed to."""

    authority: str | None = None
    regime: str | None = None
    measure: str | None = None
    kind: str | None = None
    subject_id: str | None = None


def iter_listings(
    conn: Connection,
    *,
    at: date,
    k: int,
    filters: Filters = Filters(),
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


def _fact(r: Any) -> Fact:
    data = r.data
    annuls = f"{data['authority']} / {data['regime']}" if data.get("annuls") else None
    return Fact(
        position=r.position,
        type="announcement" if r.type == "announced" else "ruling",
        date=r.effective_date,
        title=data.get("title"),
        court=data.get("court"),
        outcome=data.get("outcome"),
        summary=data.get("summary"),
        authorities=list(data.get("authorities", [])),
        subjects=list(data["subjects"]) if "subjects" in data else [data["subject"]],
        annuls=annuls,
        sources=list(data.get("sources", [])),
        recorded_at=r.recorded_at,
    )


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
    known_now = or_(log.c.retracted_by.is_(None), log.c.retracted_by > k)
    if subject is not None:
        # The subject's few events by its index, then those rows by primary key; a filter on
        # the type would lead a planner to walk every ruling of the ledger instead.
        positions = select(event_subjects.c.position).where(
            event_subjects.c.subject_id == subject, event_subjects.c.position <= k
        )
        stmt = select(log).where(log.c.position.in_(positions), known_now)
        rows = [r for r in conn.execute(stmt) if r.type == type_name]
    else:
        stmt = select(log).where(log.c.type == type_name, log.c.position <= k, known_now)
        if at is not None:
            stmt = stmt.where(log.c.effective_date <= at)
        rows = list(conn.execute(stmt))
    if at is not None:
        rows = [r for r in rows if r.effective_date is not None and r.effective_date <= at]
    rows.sort(key=lambda r: (r.effective_date, r.position))
    found = [_fact(r) for r in rows]
    if authority is not None:
        found = [f for f in found if authority in f.authorities]
    return found


def show(conn: Connection, subject_id: str, *, at: date, k: int) -> SubjectReport:
    subject = subject_at(conn, subject_id, k=k)
    return SubjectReport(
        subject=subject,
        designations=listings(conn, at=at, k=k, subject_id=subject_id, include_uncertain=True),
        rulings=facts(conn, "ruling_recorded", at=at, k=k, subject=subject_id),
        announcements=facts(conn, "announced", at=at, k=k, subject=subject_id),
    )


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
        # included), by the spatial index's authority; announcements and list imports, few,
        # by their type.
        stab = Stab("in_force", None, None, authority_key(authority))
        rows = conn.execute(
            select(periods.c.designation_id, func.min(periods.c.rec_from))
            .where(dialect_of(conn).stab(LIVE, stab), periods.c.authority == authority)
            .group_by(periods.c.designation_id)
        )
        found.update((UUID(a), int(p)) for a, p in rows)
        for r in conn.execute(
            select(log.c.aggregate_id, log.c.position, log.c.data).where(
                log.c.type.in_(["announced", "list_imported"])
            )
        ):
            if r.data.get("authority") == authority or authority in r.data.get("authorities", []):
                key = UUID(r.aggregate_id)
                found[key] = min(found.get(key, r.position), r.position)
    return covered, found
