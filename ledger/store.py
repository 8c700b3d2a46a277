"""The event store's write path and reads, shared by the SQLite and PostgreSQL recorders.

The library's recorders (``ledger.recorders``) are kept for reading aggregates; this module
owns the table's meaning and the one write path (:class:`Appender`):

- ``position``: an explicit ``INTEGER PRIMARY KEY`` (gapless, never renumbered by VACUUM),
  assigned as head + 1 while holding the write lock;
- ``recorded_at``: the ledger's UTC clock read while holding the write lock, never earlier
  than the head's (so record time never goes backwards in ledger order). It is the event's
  ``timestamp`` too: the appender hands it to the mapper (``ledger.mapper``), which encodes
  the event with it, so an event has one time and its stored JSON is never edited;
- ``digest``: SHA-256 over the event's stored content and the previous digest;
- triggers that make the table append-only in the database itself (``ledger.recorders``).

Where the ledger is (the ``--db`` URL) is ``ledger.database``; its public names are
importable from here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from ledger.database import DEFAULT_URL as DEFAULT_URL
from ledger.database import EVENTS_TABLE as EVENTS_TABLE
from ledger.database import LEDGER_VERSION as LEDGER_VERSION
from ledger.database import META_TABLE as META_TABLE
from ledger.database import Database as Database
from ledger.database import connect_timeout as connect_timeout
from ledger.database import driver_errors as driver_errors
from ledger.database import hide_password as hide_password
from ledger.database import lock_timeout as lock_timeout
from ledger.errors import ConcurrentWrite, IntegrityFailure, ReadOnly
from ledger.records import format_time as format_time

Encode = Callable[[Any, datetime], StoredEvent]
"""The mapper's encoding of a domain event with its record time (``LedgerMapper.stored``)."""

GENESIS = "0" * 64


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LedgerNotification(Notification):
    """A stored event with its ledger position (``id``), record time and digest."""

    recorded_at: datetime
    digest: str


@dataclass(frozen=True)
class Restored:
    """What a restore line fixes for one event: its position, record time and digest."""

    position: int
    recorded_at: datetime
    digest: str | None


@dataclass(frozen=True)
class Appended:
    first: int
    last: int
    recorded_at: datetime | None
    digest: str

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def utc_now() -> datetime:
    """The ledger's clock (tests replace it to step time backwards)."""
    return datetime.now(UTC)


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def chain_digest(
    previous: str,
    position: int,
    originator_id: UUID | str,
    originator_version: int,
    topic: str,
    recorded_at: datetime,
    state: bytes,
) -> str:
    """SHA-256 over one event's stored content and its predecessor's digest."""
    h = hashlib.sha256()
    header = (
        f"{previous}\n{position}\n{_as_uuid(originator_id)}\n{originator_version}\n"
        f"{topic}\n{format_time(recorded_at)}\n"
    )
    h.update(header.encode())
    h.update(state)
    return h.hexdigest()


@dataclass(frozen=True)
class EventsSql:
    """The event table's queries, written once for both databases: what differs is here."""

    table: str
    """The events table as SQL names it (PostgreSQL: schema-qualified and quoted)."""
    mark: str
    """The driver's placeholder: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    unindexed_position: str
    """``position`` hidden from the planner's primary-key range (see ``by_aggregate``):
    SQLite's unary ``+``, PostgreSQL's ``position + 0``."""

    def marks(self, n: int) -> str:
        return ",".join([self.mark] * n)

    @property
    def insert(self) -> str:
        return (
            f"INSERT INTO {self.table} (position, originator_id, originator_version, "  # noqa: S608 - a constant name, bound values
            f"topic, state, recorded_at, digest) VALUES ({self.marks(7)})"
        )

    @property
    def head(self) -> str:
        return (
            f"SELECT position, recorded_at, digest FROM {self.table} "  # noqa: S608 - constant name
            "ORDER BY position DESC LIMIT 1"
        )

    @property
    def max_position(self) -> str:
        return f"SELECT MAX(position) AS head FROM {self.table}"  # noqa: S608 - constant name

    def scan(
        self, start: int, limit: int, topics: Sequence[str], stop: int | None
    ) -> tuple[str, list[Any]]:
        m = self.mark
        sql = f"SELECT * FROM {self.table} WHERE position >= {m}"  # noqa: S608 - constant name
        params: list[Any] = [start]
        if stop is not None:
            sql += f" AND position <= {m}"
            params.append(stop)
        if topics:
            sql += f" AND topic IN ({self.marks(len(topics))})"
            params.extend(topics)
        sql += f" ORDER BY position LIMIT {m}"
        params.append(limit)
        return sql, params

    def by_aggregate(
        self, after: tuple[Any, int] | None, limit: int, stop: int, start: int
    ) -> tuple[str, list[Any]]:
        # Not the primary key's range, which would sort the whole range for every page: the
        # (aggregate, version) index gives the order and holds the position.
        m, p = self.mark, self.unindexed_position
        sql = f"SELECT * FROM {self.table} WHERE {p} > {m} AND {p} <= {m}"  # noqa: S608 - constant name
        params: list[Any] = [start, stop]
        if after is not None:
            sql += f" AND (originator_id, originator_version) > ({m}, {m})"
            params += [after[0], after[1]]
        sql += f" ORDER BY originator_id, originator_version LIMIT {m}"
        params.append(limit)
        return sql, params

    def events_of(self, count: int) -> str:
        return (
            f"SELECT originator_id, originator_version, topic, state FROM {self.table} "  # noqa: S608 - constant name, bound values
            f"WHERE originator_id IN ({self.marks(count)}) "
            "ORDER BY originator_id, originator_version"
        )


class LedgerRecorderMixin:
    """The write path and the reads shared by the SQLite and PostgreSQL recorders."""

    sql: EventsSql
    last_appender: Appender | None = None
    refusal = ""
    """Set when this process may only read the ledger: why an append is refused."""

    # Per database: connections, cursors and the shapes of rows.

    def _write_transaction(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _write_transaction_on(self, connection: Any) -> Any:  # pragma: no cover - overridden
        """A write cursor inside a transaction that the caller began on ``connection`` (a
        DBAPI connection to the same database) and will end: the read side's bulk path
        writes its rows in the same transaction as the events."""
        raise NotImplementedError

    def _reading(self) -> Any:  # pragma: no cover - overridden
        """A read-only cursor whose rows are read by column name."""
        raise NotImplementedError

    def _notifications(self, rows: Iterable[Any]) -> list[LedgerNotification]:  # pragma: no cover
        raise NotImplementedError

    def _stored_events(self, rows: Iterable[Any]) -> list[StoredEvent]:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _by_name(cur: Any) -> Any:
        """The cursor of the write path, read by column name (PostgreSQL wraps it)."""
        return getattr(cur, "raw", cur)

    # Reads, inside the write transaction (``cur``) or in their own.

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[LedgerNotification]:
        first = (start or 0) + (0 if inclusive_of_start else 1)
        with self._reading() as cur:
            return self._scan(cur, first, limit, topics, stop)

    def _scan(
        self, cur: Any, start: int, limit: int, topics: Sequence[str] = (), stop: int | None = None
    ) -> list[LedgerNotification]:
        cur = self._by_name(cur)
        cur.execute(*self.sql.scan(start, limit, topics, stop))
        return self._notifications(cur.fetchall())

    def select_by_aggregate(
        self, after: tuple[UUID, int] | None, limit: int, stop: int, *, start: int = 0
    ) -> list[LedgerNotification]:
        """Events after ``start`` up to ``stop``, aggregate by aggregate, in version order.

        A page follows the (aggregate, version) key ``after``: a rebuild reads the log in
        this order so that every aggregate is folded once, from its first event to its last.
        """
        key = None if after is None else (self._row_id(after[0]), after[1])
        with self._reading() as cur:
            cur.execute(*self.sql.by_aggregate(key, limit, stop, start))
            return self._notifications(cur.fetchall())

    def select_events_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """The events of several aggregates, by aggregate and version."""
        with self._reading() as cur:
            return self._events_of(cur, ids)

    def _events_of(self, cur: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
        cur = self._by_name(cur)
        found: list[StoredEvent] = []
        for i in range(0, len(ids), 500):
            chunk = [self._row_id(x) for x in ids[i : i + 500]]
            cur.execute(self.sql.events_of(len(chunk)), chunk)
            found += self._stored_events(cur.fetchall())
        return found

    def max_notification_id(self) -> int:
        with self._reading() as cur:
            cur.execute(self.sql.max_position)
            row = cur.fetchone()
            return int(row["head"] or 0) if row is not None else 0

    # Writes.

    def _row_id(self, originator_id: UUID | str) -> Any:
        return originator_id

    def _row_time(self, moment: datetime) -> Any:
        return moment

    def _parse_time(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).astimezone(UTC)

    @contextmanager
    def appending(
        self,
        *,
        encode: Encode | None = None,
        expect_head: int | None = None,
        connection: Any = None,
    ) -> Iterator[Appender]:
        """One write transaction, holding the write lock, for any number of batches.

        ``encode`` turns a domain event and its record time into the stored event (the
        mapper's ``stored``): the appender decides the time, the mapper encodes with it.
        Rows written are visible through the appender (``events_of``, ``locate``, ``scan``)
        before they are committed: an import can stream a large file in bounded memory and
        still write all of it or nothing.

        ``connection``: a DBAPI connection to the ledger's database on which the caller has
        begun a transaction and will commit or roll it back (see ``_write_transaction_on``).
        """
        if self.refusal:
            raise ReadOnly(self.refusal)
        transaction = (
            self._write_transaction()
            if connection is None
            else self._write_transaction_on(connection)
        )
        with transaction as cur:
            appender = Appender(self, cur, encode)
            # Kept so that an interrupted command can read back what this write committed.
            self.last_appender = appender
            if expect_head is not None and appender.head != expect_head:
                raise ConcurrentWrite(
                    "another writer appended to the ledger meanwhile; nothing was written, "
                    "try again"
                )
            yield appender

    def append(
        self,
        batches: Iterable[Sequence[tuple[Any, Restored | None]]],
        encode: Encode,
        *,
        expect_head: int | None = None,
    ) -> Appended:
        """Append every batch of (domain event, restored facts) in one transaction, holding
        the write lock throughout."""
        with self.appending(encode=encode, expect_head=expect_head) as appender:
            for batch in batches:
                appender.write(batch)
            return appender.result()

    @staticmethod
    def _check_restored(restored: Restored, position: int, last: datetime | None) -> datetime:
        if restored.position != position:
            raise IntegrityFailure(
                f"restore: expected position {position}, the file has {restored.position}"
            )
        if last is not None and restored.recorded_at < last:
            raise IntegrityFailure(f"restore: the record time of event {position} goes backwards")
        return restored.recorded_at.astimezone(UTC)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        # An encoded event has no record time yet, and its JSON is not edited to add one:
        # events are appended as domain events (``append``), through a unit of work.
        raise NotImplementedError("append domain events through ledger.unit_of_work")


class Appender:
    """Writes events at the head of the ledger inside one held write transaction."""

    def __init__(self, recorder: LedgerRecorderMixin, cur: Any, encode: Encode | None) -> None:
        self.recorder = recorder
        self.cur = cur
        self.encode = encode
        cur.execute(recorder.sql.head)
        row = cur.fetchone()
        self.head = int(row[0]) if row else 0
        self.last_time = recorder._parse_time(row[1]) if row else None
        self.digest = str(row[2]) if row else GENESIS
        self.position = self.head
        now = utc_now()
        if self.last_time is not None and now < self.last_time:
            now = self.last_time  # the clock stepped back: record time must not
        self.now = now

    def write(self, batch: Sequence[tuple[Any, Restored | None]]) -> None:
        """Record each domain event at the next position, with its record time and digest:
        the one place where both are decided."""
        rec, encode = self.recorder, self.encode
        assert encode is not None, "appending(encode=...) is needed to write"
        params = []
        for event, restored in batch:
            self.position += 1
            recorded_at = self.now
            if restored is not None:
                recorded_at = rec._check_restored(restored, self.position, self.last_time)
                self.last_time = recorded_at
            stored = encode(event, recorded_at)
            state = stored.state
            self.digest = chain_digest(
                self.digest,
                self.position,
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                recorded_at,
                state,
            )
            if restored is not None and restored.digest not in (None, self.digest):
                raise IntegrityFailure(
                    f"restore: the digest of event {self.position} does not match its "
                    "content (the file was altered or is not an export of this ledger)"
                )
            params.append(
                (
                    self.position,
                    rec._row_id(stored.originator_id),
                    stored.originator_version,
                    stored.topic,
                    state,
                    rec._row_time(recorded_at),
                    self.digest,
                )
            )
        if params:
            self.cur.executemany(rec.sql.insert, params)

    def events_of(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Stored events of these aggregates, including those written in this transaction."""
        return self.recorder._events_of(self.cur, ids) if ids else []

    def scan(self, start: int, limit: int, topics: Sequence[str] = ()) -> list[LedgerNotification]:
        return self.recorder._scan(self.cur, start, limit, topics)

    def result(self) -> Appended:
        first = self.head + 1
        recorded = self.now if self.position >= first else None
        return Appended(first, self.position, recorded, self.digest)
