"""The unit of work: several commands checked in order and appended all or nothing.

Single appends (``Ledger.execute``), JSON Lines import and list reconciliation all go
through one :class:`UnitOfWork`: it loads each aggregate once, keeps the new events in
command order (with the positions they will get, so that a later command can retract an
earlier one of the same unit), and appends them in one transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError
from eventsourcing.utils import get_topic

from ledger.domain import Authority, LedgerAggregate, Subject
from ledger.errors import ConcurrentWrite, LedgerError
from ledger.mapper import LedgerMapper
from ledger.store import Appended, Appender, LedgerNotification, LedgerRecorderMixin, Restored

A = TypeVar("A", bound=LedgerAggregate)
PAGE = 2000
CACHE_AGGREGATES = 10000
"""Aggregates an import keeps in memory; others are read again when needed."""
COMMIT_CHUNK = 5000
"""Stored events handed to the recorder at a time."""


@dataclass(frozen=True)
class Receipt:
    """What one command recorded."""

    position: int
    type: str
    summary: str
    recorded_at: datetime


@dataclass
class Pending:
    """A new event, with what to say about it and, on a restore, its recorded facts."""

    event: LedgerAggregate.Event
    summary: str
    restored: Restored | None


def concurrent_write() -> ConcurrentWrite:
    return ConcurrentWrite(
        "another writer changed the same record at the same time; nothing was written, try again"
    )


def scan(
    recorder: LedgerRecorderMixin, topics: Sequence[str] | None, start: int = 1
) -> Iterator[LedgerNotification]:
    """Every stored event (of these topics) from a position, in order of record."""
    position, notifications = start, cast(ApplicationRecorder, recorder).select_notifications
    while page := notifications(start=position, limit=PAGE, topics=topics or ()):
        for n in page:
            yield cast(LedgerNotification, n)
        position = page[-1].id + 1


class ReferenceIndex(Protocol):
    """Where the aggregates about a subject or by an authority can be looked up, rather
    than found by scanning the log (the read side offers one: ``projections.Views``)."""

    def referencing(
        self, *, subject: str | None = None, authority: str | None = None
    ) -> tuple[int, dict[UUID, int]]:
        """(P, found): of the events at positions 1..P, the aggregates of those about the
        subject (or by the authority), each with the first such position. A superset is
        fine (each aggregate is loaded and checked); a missing aggregate is not."""
        ...


class Follower(Protocol):
    """The read side, following a unit of work in the same transaction (the bulk path):
    each event's projection rows come from the aggregate the command just changed, not from
    reading the event back, and are written with the events, all or nothing."""

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction on the ledger's database, committed on leaving it: gives
        the DBAPI connection the events are appended on."""
        ...

    def started(self, writer: Appender, planned_at: int | None = None) -> None:
        """The write lock is held and the head known: the read side is brought up to it.
        ``planned_at``: the head the unit's commands were checked against, if earlier."""
        ...

    def seen(self, agg: LedgerAggregate) -> None:
        """An aggregate as the unit hands it out, before a command changes it."""
        ...

    def collected(
        self,
        agg: LedgerAggregate,
        event: LedgerAggregate.Event,
        position: int,
        restored: Restored | None,
    ) -> None:
        """The aggregate's new event (its last), to be recorded at ``position``."""
        ...

    def written(self, writer: Appender) -> None:
        """The events collected so far are written in the transaction: write their rows."""
        ...

    def forget(self, ids: Iterable[UUID]) -> None:
        """Aggregates the unit no longer keeps."""
        ...


@dataclass
class UnitOfWork:
    """Aggregates loaded once, new events kept in command order, appended all or nothing."""

    recorder: LedgerRecorderMixin
    mapper: LedgerMapper
    head: int
    by: str = ""
    """Who records the events collected from now on."""
    restored: Restored | None = None
    """On a restore: the recorded facts of the next event collected."""
    writer: Appender | None = None
    """Set while an import holds the write transaction: reads go through it."""
    loaded: dict[UUID, LedgerAggregate | None] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    located: dict[int, tuple[UUID, int]] = field(default_factory=dict)
    predicted_positions_used: bool = False
    written: int = 0
    registered: set[UUID] = field(default_factory=set)
    """Subjects found registered in this unit and not changed since: most events of an
    import only need to know that, and re-reading evicted subjects for it dominated."""
    references: ReferenceIndex | None = None
    """Set when the read side is at hand: the aggregates referring to a subject or an
    authority are looked up there, and only the log after what it covers is scanned."""
    follower: Follower | None = None
    """Set for the bulk path: the read side writes each event's rows in the same
    transaction (see ``Follower``)."""

    def next_position(self) -> int:
        return self.head + self.written + len(self.pending) + 1

    # ------------------------------------------------------------------ reading

    def get(self, aggregate_id: UUID, cls: type[A]) -> A | None:
        if aggregate_id not in self.loaded:
            self.prefetch([aggregate_id])
        agg = self.loaded[aggregate_id]
        if agg is not None and not isinstance(agg, cls):
            raise LedgerError(f"internal: aggregate {aggregate_id} is not a {cls.__name__}")
        if agg is not None and self.follower is not None:
            self.follower.seen(agg)
        return agg

    def prefetch(self, ids: Iterable[UUID]) -> None:
        """Load many aggregates with one query (an import asks for thousands)."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self.loaded]
        if not wanted:
            return
        found: dict[UUID, LedgerAggregate] = {}
        if self.head + self.written > 0:  # an empty store has nothing to load
            rows = (
                self.writer.events_of(wanted)
                if self.writer is not None
                else self.recorder.select_events_many(wanted)
            )
            for stored in rows:
                event = self.mapper.to_domain_event(stored)
                key = UUID(str(stored.originator_id))
                found[key] = cast(LedgerAggregate, event.mutate(found.get(key)))  # type: ignore[attr-defined]
        for i in wanted:
            self.loaded[i] = found.get(i)

    def locate(self, position: int) -> tuple[UUID, int] | None:
        """(aggregate, version) of the event at a position, written or pending."""
        if position in self.located:
            self.predicted_positions_used = True
            return self.located[position]
        found = (
            self.writer.scan(position, 1)
            if self.writer is not None
            else cast(ApplicationRecorder, self.recorder).select_notifications(position, 1)
        )
        if not found or found[0].id != position:
            return None
        return UUID(str(found[0].originator_id)), found[0].originator_version

    def scan(self, topics: Sequence[str] | None, start: int = 1) -> Iterator[LedgerNotification]:
        """Every stored event (of these topics) from ``start``, including those this unit
        wrote."""
        if self.writer is None:
            yield from scan(self.recorder, topics, start)
            return
        position = start
        while page := self.writer.scan(position, PAGE, topics or ()):
            yield from page
            position = page[-1].id + 1

    def events(
        self, topics: Sequence[str] | None, start: int = 1
    ) -> Iterator[tuple[LedgerNotification, LedgerAggregate.Event]]:
        """Every stored event (of these topics) from ``start``, decoded and upcast by the
        mapper."""
        decode = self.mapper.to_domain_event
        for n in self.scan(topics, start):
            yield n, cast(LedgerAggregate.Event, decode(n))

    def pending_positions(self) -> Iterator[tuple[int, Pending]]:
        first = self.head + self.written + 1
        for i, p in enumerate(self.pending):
            yield first + i, p

    def subject_ids(self) -> list[str]:
        """Every subject id ever registered (for hints; scans the log)."""
        topics = [get_topic(Subject.Registered), get_topic(Subject.Reregistered)]
        ids = {cast(Subject.Registered, e).subject_id for _, e in self.events(topics)}
        ids |= {
            p.event.subject_id
            for p in self.pending
            if isinstance(p.event, Subject.Registered | Subject.Reregistered)
        }
        return sorted(ids)

    def authority_codes(self) -> list[str]:
        """Every authority code ever registered (scans the log)."""
        topics = [get_topic(Authority.Registered), get_topic(Authority.Reregistered)]
        codes = {cast(Authority.Registered, e).code for _, e in self.events(topics)}
        codes |= {
            p.event.code
            for p in self.pending
            if isinstance(p.event, Authority.Registered | Authority.Reregistered)
        }
        return sorted(codes)

    # ------------------------------------------------------------------ writing

    def collect(self, agg: LedgerAggregate, summary: str) -> None:
        """Keep the aggregate's new events, in order, to be appended with the unit."""
        self.registered.discard(agg.id)  # changed: check it again when asked
        self.loaded.pop(agg.id, None)
        self.loaded[agg.id] = agg  # most recently used last: evicted last
        for event in agg.collect_events():
            position = self.next_position()
            self.located[position] = (agg.id, event.originator_version)
            pending = Pending(cast(LedgerAggregate.Event, event), summary, self.restored)
            self.pending.append(pending)
            if self.follower is not None:
                self.follower.collected(agg, pending.event, position, self.restored)

    def flush(self) -> None:
        """Write the pending events inside the held transaction; forget what is not needed."""
        assert self.writer is not None
        self.writer.write([(p.event, p.restored) for p in self.pending])
        if self.follower is not None:
            self.follower.written(self.writer)
        self.written += len(self.pending)
        self.pending.clear()
        self.located.clear()
        # Bounded memory: the least recently used aggregates are read again if needed.
        excess = len(self.loaded) - CACHE_AGGREGATES
        if excess > 0:
            evicted = list(itertools.islice(self.loaded, excess))
            for key in evicted:
                del self.loaded[key]
            if self.follower is not None:
                self.follower.forget(evicted)

    def commit(self, progress: Callable[[int, int], None] | None = None) -> list[Receipt]:
        """Append every pending event in one transaction; a receipt per event (``progress``:
        events handed to the store so far, of all)."""
        if not self.pending:
            return []
        pending = self.pending

        def chunks() -> Iterator[list[tuple[LedgerAggregate.Event, Restored | None]]]:
            for i in range(0, len(pending), COMMIT_CHUNK):
                if progress is not None:
                    progress(i, len(pending))
                yield [(p.event, p.restored) for p in pending[i : i + COMMIT_CHUNK]]

        restoring = pending[0].restored is not None
        expect = self.head if (self.predicted_positions_used or restoring) else None
        try:
            if self.follower is None:
                appended = self.recorder.append(chunks(), self.mapper.stored, expect_head=expect)
            else:
                appended = self._commit_followed(chunks(), expect)
        except IntegrityError:
            raise concurrent_write() from None
        assert appended.recorded_at is not None
        return [
            Receipt(appended.first + i, p.event.type_name, p.summary, appended.recorded_at)
            for i, p in enumerate(pending)
        ]

    def _commit_followed(
        self,
        chunks: Iterable[Sequence[tuple[LedgerAggregate.Event, Restored | None]]],
        expect_head: int | None,
    ) -> Appended:
        """``commit`` with the read side's rows in the same transaction (made for the
        positions after ``head``: if another writer appended meanwhile, the catch-up
        writes them instead)."""
        assert self.follower is not None
        with (
            self.follower.transaction() as connection,
            self.recorder.appending(
                encode=self.mapper.stored, expect_head=expect_head, connection=connection
            ) as writer,
        ):
            self.follower.started(writer, planned_at=self.head)
            for chunk in chunks:
                writer.write(chunk)
            self.follower.written(writer)
            return writer.result()
