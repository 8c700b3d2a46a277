"""The bulk path: the read side follows a unit of work inside its write transaction.

``import`` and ``import-list`` check each command, append its events and write their
projection rows in one transaction on one connection (``ledger.unit_of_work.Follower``).
The rows of an event come from the aggregate its command has just changed, compared with a
summary of that aggregate taken when the unit handed it out: no event is read back,
decoded or folded a second time. The rows are those the catch-up writes for the same
events (``tests/test_bulk_path.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from ledger import RecordedEvent
from ledger.domain import Designation, window_of
from ledger.errors import LedgerBusy, LedgerError
from ledger.facts import upcast_window
from ledger.store import Appender, Restored, format_time
from projections.catchup import (
    BATCH,
    NOTHING,
    Summary,
    _Writes,
    set_tracked,
    tracked_position,
)
from projections.dialect import OPEN_POSITION
from projections.tables import LIVE

if TYPE_CHECKING:
    from ledger.domain import LedgerAggregate
    from projections.views import Views

UNKNOWN_TIME = datetime.min.replace(tzinfo=UTC)
"""The record time of an event collected before the write began: set when it is written."""


class Following:
    """The read side's half of the bulk path (see the module)."""

    def __init__(self, views: Views) -> None:
        self.views = views
        self.projector = views.projector
        self.conn: Connection | None = None
        self.writes = _Writes(LIVE)
        self.summaries: dict[UUID, tuple[int, Summary]] = {}
        self.untimed: list[dict[str, Any]] = []
        self.now: datetime | None = None
        self.applied = 0
        self.stopped_at: int | None = None
        """The position of the first event not followed (see ``_reads_otherwise``)."""

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        views = self.views
        with views.engine.connect() as conn:
            views.dialect.durable(conn, True)  # it commits events: as the store does
            try:
                try:
                    transaction = views.dialect.for_writing(conn).begin()
                except OperationalError as e:
                    if "locked" not in str(e.orig):
                        raise
                    # SQLite, still locked after the lock timeout: as the event store says it.
                    raise LedgerBusy.waited(e.orig) from None
                with transaction:
                    self.conn = conn
                    yield conn.connection.driver_connection
            finally:
                self.conn = None
                # An interrupt inside the driver makes SQLAlchemy discard the connection:
                # it leaves the pool, and touching it would hide the interrupt.
                if not conn.invalidated:
                    views.dialect.durable(conn, False)
        views._analyze(self.applied if self.applied > BATCH else 0)

    def _connection(self) -> Connection:
        if self.conn is None:
            raise LedgerError("internal: the bulk path wrote outside its transaction")
        return self.conn

    def started(self, writer: Appender, planned_at: int | None = None) -> None:
        conn = self._connection()
        position = tracked_position(conn, lock=True) or 0
        if position > writer.head:
            raise LedgerError(
                f"the projections are ahead of the log ({position} > {writer.head}): "
                "'sanctions rebuild' makes them again"
            )
        # Events appended since the read side was last caught up, before this unit's.
        while position < writer.head:
            batch = writer.scan(position + 1, min(BATCH, writer.head - position))
            self.projector.apply(conn, batch)
            position = batch[-1].id
        set_tracked(conn, position)
        self.now = writer.now
        if planned_at is not None and planned_at != writer.head:
            # Another writer appended since the commands were checked: the rows made for
            # the positions after ``planned_at`` are not the events'. The catch-up writes them.
            self.stopped_at = writer.head + 1
            self.writes = _Writes(LIVE)
            self.untimed.clear()

    def seen(self, agg: LedgerAggregate) -> None:
        if self.stopped_at is not None:
            return
        known = self.summaries.get(agg.id)
        if known is None or known[0] != agg.version:
            self.summaries[agg.id] = (agg.version, self.projector.summary(agg))

    def collected(
        self,
        agg: LedgerAggregate,
        event: LedgerAggregate.Event,
        position: int,
        restored: Restored | None,
    ) -> None:
        if self.stopped_at is not None:
            return
        if _reads_otherwise(event):
            # Its rows are the catch-up's to write, from the event as the store gives it back,
            # and so are those of every event after it.
            self.stopped_at = position
            return
        version = event.originator_version
        if version != agg.version:
            raise LedgerError("internal: the bulk path needs a command's events one at a time")
        old = NOTHING
        if version > 1:
            known = self.summaries.get(agg.id)
            if known is None or known[0] != version - 1:
                raise LedgerError(f"internal: aggregate {agg.id} changed unseen")
            old = known[1]
        if restored is not None:
            recorded_at = restored.recorded_at.astimezone(UTC)
        else:
            recorded_at = self.now or UNKNOWN_TIME
        rec = RecordedEvent(
            position=position,
            type=event.type_name,
            aggregate_id=agg.id,
            version=version,
            topic=get_topic(type(event)),
            recorded_at=recorded_at,
            recorded_by=event.recorded_by,
            digest="",  # not projected
            event=event,
        )
        self.summaries[agg.id] = (version, self.projector.project(self.writes, rec, agg, old))
        if recorded_at is UNKNOWN_TIME:
            self.untimed.append(self.writes.log_rows[position])

    def written(self, writer: Appender) -> None:
        conn = self._connection()
        if writer.position >= OPEN_POSITION:
            raise LedgerError(f"position {writer.position} is beyond what the projections can hold")
        when = format_time(writer.now)
        for row in self.untimed:
            row["recorded_at"] = when
        self.untimed.clear()
        writes, self.writes = self.writes, _Writes(LIVE)
        writes.flush(conn)
        self.applied += len(writes.log_rows)
        set_tracked(conn, writer.position if self.stopped_at is None else self.stopped_at - 1)

    def forget(self, ids: Iterable[UUID]) -> None:
        for key in ids:
            self.summaries.pop(key, None)
            self.projector.segments.pop(key, None)


def _reads_otherwise(event: LedgerAggregate.Event) -> bool:
    """Whether the store gives this new event back otherwise than it is: a designation
    stored in version 1 whose reason and sources read as a list import's window (a restore
    of a ledger written before windows were data, or such a line written by hand) gets the
    window when read (``ledger.facts.upcast_window``); the unit's aggregate has none."""
    if not isinstance(event, Designation.Designated | Designation.Redesignated):
        return False
    if window_of(event) is not None:
        return False  # stored with its window as data, read back the same
    probe = {"reason": event.reason, "effective": event.effective, "sources": event.sources}
    upcast_window(probe)
    return bool(probe.get("window_in_reason"))
