"""The SQLite recorder (the PostgreSQL one is ``ledger.store_postgres``, so that SQLite never
loads psycopg): the library's core recorders, with this ledger's
table layout (``position``, ``recorded_at``, ``digest``, append-only triggers), connections
and row shapes. What they share, the write path included, is ``ledger.store``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.database import EVENTS_TABLE, LEDGER_VERSION, META_TABLE
from ledger.errors import LedgerBusy
from ledger.store import EventsSql, LedgerNotification, LedgerRecorderMixin, format_time

# --------------------------------------------------------------------------- SQLite


def _as_bytes(value: Any) -> bytes:
    """Stored state is a BLOB; a row rewritten as TEXT by hand must still be checkable."""
    return value.encode() if isinstance(value, str) else bytes(value)


SQLITE_SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
        position INTEGER PRIMARY KEY,
        originator_id TEXT NOT NULL,
        originator_version INTEGER NOT NULL,
        topic TEXT NOT NULL,
        state BLOB NOT NULL,
        recorded_at TEXT NOT NULL,
        digest TEXT NOT NULL,
        UNIQUE (originator_id, originator_version))""",
    f"""CREATE TRIGGER IF NOT EXISTS {EVENTS_TABLE}_no_update BEFORE UPDATE ON {EVENTS_TABLE}
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {EVENTS_TABLE}_no_delete BEFORE DELETE ON {EVENTS_TABLE}
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END""",
    f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    f"""INSERT OR IGNORE INTO {META_TABLE} VALUES ('schema_version', '{LEDGER_VERSION}')""",  # noqa: S608 - constants
]


class SQLiteLedgerRecorder(LedgerRecorderMixin, SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        # The table name is a module constant, never input: the SQL is not injectable.
        self.sql = EventsSql(EVENTS_TABLE, "?", "+position")
        # The library's own paths (if any still run) ask the same question the same way.
        self.select_max_notification_id_statement = self.sql.max_position

    def construct_create_table_statements(self) -> list[str]:
        return list(SQLITE_SCHEMA)

    def _row_id(self, originator_id: UUID | str) -> Any:
        return originator_id.hex if isinstance(originator_id, UUID) else originator_id

    def _row_time(self, moment: datetime) -> Any:
        return format_time(moment)

    @contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor().sqlite_cursor
            # Take the write lock before reading the head: a deferred BEGIN would let two
            # writers read the same head and one of them fail with SQLITE_BUSY.
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:  # still locked after the lock timeout
                cursor.close()
                raise LedgerBusy.waited(e) from None
            try:
                yield cursor
                conn.commit()
            except sqlite3.IntegrityError as e:
                conn.rollback()
                raise IntegrityError(e) from e
            except BaseException:
                conn.rollback()
                raise
            finally:
                cursor.close()

    @contextmanager
    def _write_transaction_on(self, connection: Any) -> Iterator[Any]:
        # The caller began it with BEGIN IMMEDIATE: the write lock is held already.
        cursor = connection.cursor()
        cursor.row_factory = sqlite3.Row  # as the library's connections read rows
        try:
            yield cursor
        except sqlite3.IntegrityError as e:
            raise IntegrityError(e) from e
        finally:
            # An interrupt inside the owner's SQL may have closed the connection already:
            # closing its cursor then fails, and would hide the interrupt.
            with suppress(sqlite3.ProgrammingError):
                cursor.close()

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cur:
            yield cur

    def _notifications(self, rows: Iterable[Any]) -> list[LedgerNotification]:
        ids: dict[str, UUID | str] = {}  # read by aggregate, most rows repeat the last id

        def uuid_of(text: str) -> UUID | str:
            found = ids.get(text)
            if found is None:
                found = ids[text] = self.convert_originator_id(text)
            return found

        return [
            LedgerNotification(
                id=row["position"],
                originator_id=uuid_of(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=_as_bytes(row["state"]),
                recorded_at=self._parse_time(row["recorded_at"]),
                digest=row["digest"],
            )
            for row in rows
        ]

    def _stored_events(self, rows: Iterable[Any]) -> list[StoredEvent]:
        return [
            StoredEvent(
                originator_id=self.convert_originator_id(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=_as_bytes(row["state"]),
            )
            for row in rows
        ]
