"""The PostgreSQL recorder: the library's core PostgreSQL recorder with this ledger's table
layout (``position``, ``recorded_at``, ``digest``, append-only triggers). In a module of its own
so that a command on an SQLite ledger never loads psycopg (start-up time).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier, Literal

from ledger.database import EVENTS_TABLE, LEDGER_VERSION, META_TABLE, lock_timeout
from ledger.errors import LedgerBusy
from ledger.store import EventsSql, LedgerNotification, LedgerRecorderMixin

# --------------------------------------------------------------------------- PostgreSQL


class PostgresLedgerRecorder(LedgerRecorderMixin, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        schema, table = Identifier(datastore.schema), Identifier(EVENTS_TABLE)
        fmt = {
            "schema": schema,
            "table": table,
            "meta": Identifier(META_TABLE),
            "version": Literal(str(LEDGER_VERSION)),
        }
        self.sql_create_statements = [
            SQL("CREATE SCHEMA IF NOT EXISTS {schema}").format(**fmt),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "position bigint PRIMARY KEY, "
                "originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, "
                "topic text NOT NULL, "
                "state bytea NOT NULL, "
                "recorded_at timestamptz NOT NULL, "
                "digest text NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            ).format(**fmt),
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.ledger_refuse_change() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                "'the ledger is append-only: % refused', TG_OP; END $$"
            ).format(**fmt),
            SQL(
                "CREATE OR REPLACE TRIGGER ledger_events_append_only "
                "BEFORE UPDATE OR DELETE ON {schema}.{table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.ledger_refuse_change()"
            ).format(**fmt),
            SQL(
                "CREATE OR REPLACE TRIGGER ledger_events_no_truncate "
                "BEFORE TRUNCATE ON {schema}.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.ledger_refuse_change()"
            ).format(**fmt),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{meta} (name text PRIMARY KEY, "
                "value text NOT NULL)"
            ).format(**fmt),
            SQL(
                "INSERT INTO {schema}.{meta} VALUES ('schema_version', {version}) "
                "ON CONFLICT DO NOTHING"
            ).format(**fmt),
            # Every role that may use the ledger must know its version: it is no secret.
            SQL("GRANT SELECT ON {schema}.{meta} TO PUBLIC").format(**fmt),
        ]
        quoted = datastore.schema.replace('"', '""')
        self.sql = EventsSql(f'"{quoted}".{EVENTS_TABLE}', "%s", "position + 0")
        # A transaction-scoped advisory lock serialises writers: unlike LOCK TABLE it needs
        # no privilege beyond INSERT and SELECT on the event table.
        self._lock_sql = SQL("SELECT pg_advisory_xact_lock(hashtext({name}))").format(
            name=Literal(f"{datastore.schema}.{EVENTS_TABLE}")
        )

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            # An existing ledger needs nothing created: a role with only INSERT and SELECT
            # on the event table can then work with it.
            curs.execute(
                "SELECT to_regclass(%s) AS t", (f'"{self.datastore.schema}".{EVENTS_TABLE}',)
            )
            row = curs.fetchone()
            if row is not None and row["t"] is not None:
                return
            # Serialise concurrent first runs: CREATE ... IF NOT EXISTS races otherwise.
            curs.execute("SELECT pg_advisory_xact_lock(4242424242)")
            for statement in self.sql_create_statements:
                curs.execute(statement, prepare=False)

    @contextmanager
    def _write_transaction(self) -> Iterator[Any]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            self._locked_cursor(conn) as cur,
        ):
            yield cur

    @contextmanager
    def _write_transaction_on(self, connection: Any) -> Iterator[Any]:
        with self._locked_cursor(connection) as cur:
            yield cur

    @contextmanager
    def _locked_cursor(self, conn: Any) -> Iterator[Any]:
        """A cursor in ``conn``'s transaction, holding the ledger's write lock."""
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(
                    SQL("SET LOCAL lock_timeout = {}").format(Literal(f"{lock_timeout()}s"))
                )
                cur.execute(self._lock_sql)
                yield _TupleCursor(cur)
        except psycopg.errors.UniqueViolation as e:
            raise IntegrityError(e) from e
        except psycopg.errors.LockNotAvailable as e:
            raise LedgerBusy.waited(e) from None

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            yield cur

    def _notifications(self, rows: Iterable[Any]) -> list[LedgerNotification]:
        return [
            LedgerNotification(
                id=row["position"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
                recorded_at=row["recorded_at"].astimezone(UTC),
                digest=row["digest"],
            )
            for row in rows
        ]

    def _stored_events(self, rows: Iterable[Any]) -> list[StoredEvent]:
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in rows
        ]


class _TupleCursor:
    """psycopg's dict rows, read by position as the shared write path expects."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self.raw = cur

    def execute(self, sql: Any, params: Any = None) -> None:
        self._cur.execute(sql, params)

    def executemany(self, sql: Any, params: Any) -> None:
        self._cur.executemany(sql, params)

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cur.fetchone()
        return tuple(row.values()) if row is not None else None
