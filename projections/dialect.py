"""What differs between SQLite and PostgreSQL on the read side, in one place.

Everything else in ``projections`` is written once, in SQLAlchemy Core, for both databases;
each difference is a method here, asked of ``dialect_of(conn)``. (The event store's own
differences are its two recorders in ``ledger/store.py``.)
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    create_engine,
    event,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.expression import cast

from ledger.store import Database, connect_timeout, lock_timeout


class Dialect:
    """SQLite's behaviour; ``Postgres`` overrides what differs."""

    name = "sqlite"

    def json_array_has(self, column: Any, value: str) -> ColumnElement[bool]:
        """Whether the JSON array in ``column`` holds the string ``value`` (an exact match)."""
        items = func.json_each(column).table_valued("value")
        return exists(select(1).select_from(items).where(items.c.value == value))

    def for_writing(self, conn: Connection) -> Connection:
        """``conn`` set to take the write lock when its transaction begins.

        SQLite: BEGIN IMMEDIATE, or two writers read the same position and one fails with
        SQLITE_BUSY. PostgreSQL locks the tracking row instead (``lock_tracking``).
        """
        return conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")

    def lock_tracking(self, stmt: Select[Any]) -> Select[Any]:
        return stmt  # the transaction already holds SQLite's one write lock

    def serialise_schema_creation(self, conn: Connection) -> None:
        """Nothing to do: SQLite's write lock already serialises CREATE TABLE."""

    def analyze(self, engine: Engine, table_names: list[str]) -> None:
        """Nothing to do: SQLite's planner needs no fresh statistics here."""

    def is_missing_table(self, error: SQLAlchemyError) -> bool:
        return "no such table" in str(error)

    def may_write(self, conn: Connection, schema: str, table_names: list[str]) -> bool:
        """Whether this connection's role may create or write the projection tables.

        SQLite: the file's permissions, already checked when the ledger was opened.
        """
        return True

    @property
    def positional_params(self) -> bool:
        """Whether the driver takes a tuple per row (``?``) rather than a dict (``%(name)s``)."""
        return True


class Postgres(Dialect):
    name = "postgresql"

    def json_array_has(self, column: Any, value: str) -> ColumnElement[bool]:
        # Here, not at the top: SQLAlchemy's PostgreSQL dialect loads only for PostgreSQL.
        from sqlalchemy.dialects.postgresql import JSONB

        return cast(column, JSONB).contains([value])

    def for_writing(self, conn: Connection) -> Connection:
        return conn

    def lock_tracking(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.with_for_update()

    def serialise_schema_creation(self, conn: Connection) -> None:
        # Concurrent CREATE TABLE IF NOT EXISTS races: first runs wait for each other.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242424243)")

    def analyze(self, engine: Engine, table_names: list[str]) -> None:
        # Without fresh statistics the planner guesses thousands of rows for one subject
        # and plans parallel scans (show at 1M events: 16 ms, not 3).
        with engine.connect() as conn:
            for name in table_names:
                conn.exec_driver_sql(f"ANALYZE {name}")
            conn.commit()

    def is_missing_table(self, error: SQLAlchemyError) -> bool:
        return getattr(getattr(error, "orig", None), "sqlstate", None) == "42P01"

    def may_write(self, conn: Connection, schema: str, table_names: list[str]) -> bool:
        names = [f'"{schema}".{name}' for name in table_names]
        allowed = conn.execute(
            text(
                "SELECT bool_and(CASE WHEN to_regclass(t) IS NULL "
                "THEN has_schema_privilege(:schema, 'CREATE') "
                "ELSE has_table_privilege(t, 'INSERT') AND has_table_privilege(t, 'UPDATE') "
                "END) FROM unnest(CAST(:names AS text[])) AS t"
            ),
            {"schema": schema, "names": names},
        ).scalar()
        return bool(allowed)

    @property
    def positional_params(self) -> bool:
        return False


_DIALECTS: dict[str, Dialect] = {d.name: d for d in (Dialect(), Postgres())}


def dialect_of(bind: Connection | Engine) -> Dialect:
    return _DIALECTS[bind.dialect.name]


def sqlite_engine(url: str, *, uri: str | None = None, read_only: bool = False) -> Engine:
    """An engine on an SQLite file: WAL, our own BEGIN (IMMEDIATE for writers).

    ``uri`` opens the file by an SQLite URI instead (the ledger's own: it never creates the
    file, and reads a read-only ledger without writing anything next to it).
    """
    if uri is None:
        engine = create_engine(url, connect_args={"timeout": lock_timeout()})
    else:
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=lock_timeout(), check_same_thread=False
            ),
            poolclass=QueuePool,
        )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        if read_only:  # nothing to set: it could only fail, or write
            return
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        # Projections are derived and rebuildable: no fsync per batch. A 16 MB page cache: 64 MB
        # cost a 200,000-event import 56 MB of RSS and no time (the OS caches the file anyway).
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        dbapi_conn.execute("PRAGMA cache_size=-16384")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def ledger_engine(db: Database, *, sqlite_uri: str, read_only: bool) -> Engine:
    """The engine on the ledger's own database, where its projections live."""
    if db.kind == "sqlite":
        return sqlite_engine("", uri=sqlite_uri, read_only=read_only)
    return create_engine(
        db.sqlalchemy_url(),
        connect_args={
            "options": f"-csearch_path={db.schema}",
            "connect_timeout": connect_timeout(),
        },
        pool_size=2,
    )
