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

from ledger import RecordedEvent
from ledger.errors import LedgerError
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

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        views = self.views
        with views.engine.connect() as conn:
            views.dialect.durable(conn, True)  # it commits events: as the store does
            try:
                with views.dialect.for_writing(conn).begin():
                    self.conn = conn
                    yield conn.connection.driver_connection
            finally:
                self.conn = None
                views.dialect.durable(conn, False)
        views._analyze(self.applied if self.applied > BATCH else 0)

    def _connection(self) -> Connection:
        if self.conn is None:
            raise LedgerError("internal: the bulk path wrote outside its transaction")
        return self.conn

    def started(self, writer: Appender) -> None:
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

    def seen(self, agg: LedgerAggregate) -> None:
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
        set_tracked(conn, writer.position)

    def forget(self, ids: Iterable[UUID]) -> None:
        for key in ids:
            self.summaries.pop(key, None)
            self.projector.segments.pop(key, None)
