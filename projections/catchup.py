"""The catch-up: apply the log after the tracked position, in batches.

Each batch writes its view rows and the new tracking position in one transaction, holding
the write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SELECT ... FOR UPDATE`` on the
tracking row), so two processes never apply the same event and a crash never applies half
a batch. Every event is applied to an in-memory copy of its aggregate; the aggregate's
state before and after gives the rows to close (``rec_to``) and to open (``rec_from``).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

from sqlalchemy import JSON, Connection, Date, Table, and_, func, insert, select, update

from ledger import Ledger, RecordedEvent
from ledger.errors import LedgerError
from ledger.records import to_json
from ledger.store import LedgerNotification, format_time
from ledger.timeline import Segment
from projections.dialect import OPEN_POSITION, dialect_of
from projections.name_index import IndexWriter
from projections.parties import LinkWrites
from projections.statements import TRACKED
from projections.statements import TRACKING_NAME as TRACKING_NAME
from projections.tables import LIVE, SCHEMA_VERSION, Tables, authority_key

if TYPE_CHECKING:  # loaded when events are applied: a query on current projections needs none
    from ledger.domain import Designation, LedgerAggregate, Subject, SubjectState
    from ledger.links import Link

BATCH = 2000
CACHE_SIZE = 10000


def segment_row(
    designation_id: str, position: int, agg: Designation, seg: Segment
) -> dict[str, Any]:
    first = agg.history[1]  # the designation's key, from its first event
    subject = getattr(first, "subject", "")
    authority = getattr(first, "authority", "")
    regime = getattr(first, "regime", "")
    return {
        "designation_id": designation_id,
        "rec_from": position,
        "rec_to": None,
        "subject_id": subject,
        "authority": authority,
        "authority_key": authority_key(authority),
        "regime": regime,
        "period_start": seg.period_start,
        "period_end": seg.period_end,
        "valid_from": seg.valid_from,
        "valid_to": seg.valid_to,
        "measures": list(seg.measures),
        "previous_measures": list(seg.previous_measures)
        if seg.previous_measures is not None
        else None,
        "until": seg.until,
        "legal_act": seg.legal_act,
        "reason": seg.reason,
        "ended_by": seg.ended_by,
        "possible_from": seg.possible_from,
    }


def subject_row(position: int, state: SubjectState) -> dict[str, Any]:
    return {
        "subject_id": state.subject_id,
        "rec_from": position,
        "rec_to": None,
        "name": state.name,
        "kind": state.kind,
        "aliases": list(state.aliases),
        "birth_date": state.birth_date,
        "alt_birth_dates": [d.isoformat() for d in state.alt_birth_dates] or None,
        "nationality": state.nationality,
        "position_title": state.position,
    }


NAMING_AUTHORITIES = frozenset({"announced", "list_imported"})
"""Event types indexed by the authorities they name (``view_event_authorities``)."""


@dataclass
class _Writes:
    """The rows one batch writes, kept in memory so the batch is a few executemany calls."""

    tables: Tables
    log_rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    log_retracted: list[dict[str, Any]] = field(default_factory=list)
    subject_links: list[dict[str, Any]] = field(default_factory=list)
    authority_links: list[dict[str, Any]] = field(default_factory=list)
    new_periods: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)
    done_periods: list[dict[str, Any]] = field(default_factory=list)
    close_periods: list[dict[str, Any]] = field(default_factory=list)
    new_subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    done_subjects: list[dict[str, Any]] = field(default_factory=list)
    close_subjects: list[dict[str, Any]] = field(default_factory=list)
    links: LinkWrites = field(default_factory=LinkWrites)
    names: IndexWriter = field(default_factory=IndexWriter)  # the search index

    def close_period(self, designation_id: str, seg: Segment, position: int) -> None:
        key = (designation_id, seg.valid_from)
        row = self.new_periods.pop(key, None)
        if row is not None:  # opened earlier in this batch
            row["rec_to"] = position
            self.done_periods.append(row)
        else:
            self.close_periods.append({"d": designation_id, "vf": seg.valid_from, "p": position})

    def open_period(self, row: dict[str, Any]) -> None:
        self.new_periods[(row["designation_id"], row["valid_from"])] = row

    def close_subject(self, subject_id: str, position: int) -> None:
        row = self.new_subjects.pop(subject_id, None)
        if row is not None:
            row["rec_to"] = position
            self.done_subjects.append(row)
        else:
            self.close_subjects.append({"s": subject_id, "p": position})

    def flush(self, conn: Connection) -> None:
        t = self.tables
        periods, subjects, log = t.periods, t.subjects, t.log
        # Closing targets rows from earlier batches only, so it may run before the inserts.
        if self.close_periods:
            conn.execute(
                update(periods)
                .where(
                    and_(
                        periods.c.designation_id == _bind("d"),
                        periods.c.valid_from == _bind("vf"),
                        periods.c.rec_to.is_(None),
                    )
                )
                .values(rec_to=_bind("p")),
                self.close_periods,
            )
        if self.close_subjects:
            conn.execute(
                update(subjects)
                .where(and_(subjects.c.subject_id == _bind("s"), subjects.c.rec_to.is_(None)))
                .values(rec_to=_bind("p")),
                self.close_subjects,
            )
        new_periods = self.done_periods + list(self.new_periods.values())
        if new_periods:
            # Under the write lock: no other process numbers rows meanwhile.
            last = conn.execute(select(func.max(periods.c.id))).scalar() or 0
            for number, row in enumerate(new_periods, start=last + 1):
                row["id"] = number
        bulk_insert(conn, periods, new_periods)
        bulk_insert(conn, subjects, self.done_subjects + list(self.new_subjects.values()))
        bulk_insert(conn, log, list(self.log_rows.values()))
        bulk_insert(conn, t.event_subjects, self.subject_links)
        bulk_insert(conn, t.event_authorities, self.authority_links)
        self.links.flush(conn, bulk_insert, t.links)
        self.names.flush(conn, t)
        if self.log_retracted:
            conn.execute(
                update(log)
                .where(log.c.position == _bind("target"))
                .values(retracted_by=_bind("by")),
                self.log_retracted,
            )


_INSERTS: dict[tuple[str, str], tuple[str, tuple[str, ...], Any, list[tuple[int, Any]]]] = {}


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Many rows with one executemany of the driver: set-based, without per-row SQL work.

    Values are given as the database stores them (dates as ISO text, JSON as text), which
    both SQLite and PostgreSQL accept; every value is a bound parameter.
    """
    if not rows:
        return
    key = (conn.dialect.name, table.name)
    if key not in _INSERTS:
        compiled = insert(table).compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup or table.c.keys())
        convert = [
            (i, _CONVERTERS[type(table.c[name].type)])
            for i, name in enumerate(order)
            if type(table.c[name].type) in _CONVERTERS
        ]
        # Every table has several columns, so the getter returns a tuple.
        _INSERTS[key] = (str(compiled), order, itemgetter(*order), convert)
    sql, order, get, convert = _INSERTS[key]
    # The hot loop of every catch-up: one C call picks a row's values, conversions only
    # where a column needs one.
    params: list[Any]
    if convert:
        params = []
        for row in rows:
            values = list(get(row))
            for i, fn in convert:
                if values[i] is not None:
                    values[i] = fn(values[i])
            params.append(tuple(values))
    else:
        params = list(map(get, rows))
    dialect_of(conn).insert_rows(conn, sql, table.name, order, params)


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return to_json(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# One encoder for every value: json.dumps with options builds a new encoder per call, which
# was about a fifth of a rebuild's writing time.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode

_CONVERTERS: dict[type, Any] = {
    Date: date.isoformat,
    JSON: _ENCODE,
}


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


class Projector:
    """Applies recorded events to the view tables."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.cache: OrderedDict[UUID, LedgerAggregate] = OrderedDict()
        self.cache_size = CACHE_SIZE
        # A designation's segments after its last applied event, by aggregate: the next
        # event's "before" without deriving them again (keyed by version, so never stale).
        self.segments: dict[UUID, tuple[int, list[Segment]]] = {}

    def _before(self, event: RecordedEvent) -> LedgerAggregate | None:
        """The event's aggregate just before it: cached, or read from the store."""
        agg = self.cache.get(event.aggregate_id)
        if agg is not None and agg.version == event.version - 1:
            self.cache.move_to_end(event.aggregate_id)
            return agg
        if event.version == 1:
            return None
        return cast(
            "LedgerAggregate",
            self.ledger.repository.get(event.aggregate_id, version=event.version - 1),
        )

    def _remember(self, agg: LedgerAggregate) -> None:
        self.cache[agg.id] = agg
        self.cache.move_to_end(agg.id)
        while len(self.cache) > self.cache_size:
            evicted, _ = self.cache.popitem(last=False)
            self.segments.pop(evicted, None)

    def apply(
        self,
        conn: Connection,
        notifications: Sequence[LedgerNotification],
        tables: Tables = LIVE,
    ) -> None:
        if notifications and notifications[-1].id >= OPEN_POSITION:
            # The spatial indexes store positions as 32-bit integers, the open end as the
            # largest: a later position would fall outside every open period.
            raise LedgerError(
                f"position {notifications[-1].id} is beyond what the projections can hold"
            )
        writes = _Writes(tables)
        self._load_missing(notifications)
        for n in notifications:
            self._apply_one(writes, self.ledger.decode(n))
        writes.flush(conn)

    def _load_missing(self, notifications: Sequence[LedgerNotification]) -> None:
        """Aggregates of a batch that are not cached, read with one query, not one each."""
        first: dict[UUID, int] = {}
        for n in notifications:
            first.setdefault(cast(UUID, n.originator_id), n.originator_version)
        wanted = []
        for key, version in first.items():
            cached = self.cache.get(key)
            if version > 1 and (cached is None or cached.version != version - 1):
                wanted.append(key)
        if not wanted:
            return
        mapper = self.ledger.mapper
        built: dict[UUID, LedgerAggregate] = {}
        for stored in self.ledger.ledger_recorder.select_events_many(wanted):
            key = cast(UUID, stored.originator_id)
            if stored.originator_version >= first[key]:
                continue  # the batch applies it
            event = mapper.to_domain_event(stored)
            built[key] = cast("LedgerAggregate", event.mutate(built.get(key)))  # type: ignore[attr-defined]
        for agg in built.values():
            self._remember(agg)

    def _segments_of(self, agg: Designation) -> list[Segment]:
        known = self.segments.get(agg.id)
        if known is not None and known[0] == agg.version:
            return known[1]
        return agg.segments()

    def _apply_one(self, w: _Writes, rec: RecordedEvent) -> None:
        before = self._before(rec)
        old = self.summary(before)
        agg = cast("LedgerAggregate", rec.event.mutate(before))
        self._remember(agg)
        self.project(w, rec, agg, old)

    def summary(self, agg: LedgerAggregate | None) -> Summary:
        """What the rows of an aggregate's next event are compared with: a designation's
        segments, a subject's state, a link's standing event."""
        d = _domain()
        if isinstance(agg, d.designation):
            return Summary(segments=self._segments_of(agg))
        if isinstance(agg, d.subject):
            return Summary(subject=agg.state())
        if isinstance(agg, d.link):
            return Summary(link=agg.standing_link())
        return NOTHING

    def project(
        self, w: _Writes, rec: RecordedEvent, agg: LedgerAggregate, old: Summary
    ) -> Summary:
        """The rows of one event, from its aggregate before (``old``) and after (``agg``);
        returns the summary after it."""
        d = _domain()
        event = rec.event
        p = rec.position

        target: LedgerAggregate.Event | None = None
        if isinstance(event, d.aggregate.Retracted):
            target = agg.history[event.target_version]
            if event.position in w.log_rows:
                w.log_rows[event.position]["retracted_by"] = p
            else:
                w.log_retracted.append({"target": event.position, "by": p})

        # The window of a version 1 designation (read from its reason) shows in the history.
        data = d.event_data(event, window=True) if d.window_of(event) is not None else rec.data
        aggregate_id = str(rec.aggregate_id)
        w.log_rows[p] = {
            "position": p,
            "type": rec.type,
            "aggregate_id": aggregate_id,
            "version": rec.version,
            "effective_date": d.effective_date(event) if target is None else None,
            "recorded_at": format_time(rec.recorded_at),
            "recorded_by": rec.recorded_by,
            "data": data,  # dates become ISO text as the row is written
            "retracts": event.position if isinstance(event, d.aggregate.Retracted) else None,
            "retracted_by": None,
        }
        for sid in dict.fromkeys(d.subjects_of(target if target is not None else event)):
            w.subject_links.append({"subject_id": sid, "position": p})
        if rec.type in NAMING_AUTHORITIES:
            named = [data["authority"]] if data.get("authority") else []
            for code in dict.fromkeys(named + list(data.get("authorities", []))):
                w.authority_links.append({"authority": code, "position": p})

        if isinstance(agg, d.designation):
            new_segments = agg.segments()
            self.segments[agg.id] = (agg.version, new_segments)
            old_set, new_set = set(old.segments), set(new_segments)
            did = aggregate_id
            for seg in old.segments:
                if seg not in new_set:
                    w.close_period(did, seg, p)
            for seg in new_segments:
                if seg not in old_set:
                    w.open_period(segment_row(did, p, agg, seg))
            return Summary(segments=new_segments)
        if isinstance(agg, d.subject):
            old_subject, new_subject = old.subject, agg.state()
            if new_subject != old_subject:
                w.names.subject_changed(p, old_subject, new_subject)
                sid = (old_subject or new_subject).subject_id  # type: ignore[union-attr]
                if old_subject is not None:
                    w.close_subject(sid, p)
                if new_subject is not None:
                    w.new_subjects[sid] = subject_row(p, new_subject)
            return Summary(subject=new_subject)
        if isinstance(agg, d.link):
            w.links.apply(old.link, agg, p)
            return Summary(link=agg.standing_link())
        return NOTHING


class Summary(NamedTuple):
    """An aggregate's projected state at one version (see ``Projector.summary``)."""

    segments: list[Segment] = []  # never mutated: shared by every summary
    subject: SubjectState | None = None
    link: Link.Linked | Link.Relinked | None = None


NOTHING = Summary()


class _Domain(NamedTuple):
    designation: type[Designation]
    aggregate: type[LedgerAggregate]
    subject: type[Subject]
    link: type[Link]
    window_of: Callable[[LedgerAggregate.Event], tuple[date | None, bool] | None]
    effective_date: Callable[[LedgerAggregate.Event], date | None]
    event_data: Callable[..., dict[str, Any]]
    subjects_of: Callable[[LedgerAggregate.Event], list[str]]


@cache
def _domain() -> _Domain:
    """What applying an event needs from the domain, imported on first use (a query needs
    none of it) and once: import statements run per event cost about 5% of a rebuild."""
    from ledger.domain import Designation, LedgerAggregate, Subject, window_of
    from ledger.event_data import effective_date, event_data, subjects_of
    from ledger.links import Link

    return _Domain(
        Designation,
        LedgerAggregate,
        Subject,
        Link,
        window_of,
        effective_date,
        event_data,
        subjects_of,
    )


def tracked_position(conn: Connection, *, lock: bool = False, tables: Tables = LIVE) -> int | None:
    tracking = tables.tracking
    if tables is LIVE and not lock:
        stmt = TRACKED  # prebuilt: read before every answer of the server
    else:
        stmt = select(tracking.c.position, tracking.c.schema_version).where(
            tracking.c.name == TRACKING_NAME
        )
    if lock:
        stmt = dialect_of(conn).lock_tracking(stmt)
    row = conn.execute(stmt).first()
    if row is None or row.schema_version != SCHEMA_VERSION:
        return None
    return int(row.position)


def set_tracked(conn: Connection, position: int, tables: Tables = LIVE) -> None:
    tracking = tables.tracking
    conn.execute(
        update(tracking)
        .where(tracking.c.name == TRACKING_NAME)
        .values(position=position, schema_version=SCHEMA_VERSION)
    )


ProgressFn = Callable[[int, int], None]
