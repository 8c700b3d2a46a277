"""What differs between SQLite and PostgreSQL on the read side, in one place.

Everything else in ``projections`` is written once, in SQLAlchemy Core, for both databases;
each difference is a method here, asked of ``dialect_of(conn)``. (The event store's own
differences are its two recorders in ``ledger/store.py``.)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from projections.tables import Tables

OPEN_DAY = date.max.toordinal()
"""Valid time of an open period's end in the spatial indexes (days as ``date.toordinal``)."""

OPEN_POSITION = 2**31 - 1
"""Record time of a row still current in the spatial indexes (32-bit in SQLite's R*Tree)."""

STABS = ("in_force", "window")
"""The two spatial indexes of the periods: the days a period's row holds (``valid_from`` to
``valid_to``), and the window before a period's first row in which it may have begun
(``possible_from`` to the day before ``period_start``)."""

# SQLite: a stored ISO date as a day number, without a function of ours (any process may
# write the tables, and triggers run there too).
_SQLITE_DAY = "CAST(julianday({}) - 1721424.5 AS INTEGER)"
_SQLITE_RECORD = f"new.rec_from, COALESCE(MAX(new.rec_from, new.rec_to - 1), {OPEN_POSITION})"
_SQLITE_ROWS = {
    "in_force": (
        f"{_SQLITE_DAY.format('{p}valid_from')}, "
        f"COALESCE({_SQLITE_DAY.format('{p}valid_to')}, {OPEN_DAY})",
        "",
    ),
    "window": (
        f"{_SQLITE_DAY.format('{p}possible_from')}, {_SQLITE_DAY.format('{p}period_start')} - 1",
        "WHERE {p}possible_from < {p}period_start AND {p}valid_from = {p}period_start",
    ),
}

# PostgreSQL: GiST over boxes (built in; no extension to install): authority first, so each
# authority's rows form their own subtrees, then (valid day, record position).
_PG_DAY = "({} - DATE '0001-01-01' + 1)"
_PG_AUTHORITY = "box(point({p}authority_key, 0), point({p}authority_key, 0))"
_PG_RECORD = f"COALESCE({{p}}rec_to - 1, {OPEN_POSITION})"
_PG_BOXES = {
    "in_force": (
        f"box(point({_PG_DAY.format('{p}valid_from')}, {{p}}rec_from), "
        f"point(COALESCE({_PG_DAY.format('{p}valid_to')}, {OPEN_DAY}), {_PG_RECORD}))",
        "",
    ),
    "window": (
        f"box(point({_PG_DAY.format('{p}possible_from')}, {{p}}rec_from), "
        f"point({_PG_DAY.format('{p}period_start')} - 1, {_PG_RECORD}))",
        "{p}possible_from < {p}period_start AND {p}valid_from = {p}period_start",
    ),
}


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

    def durable(self, conn: Connection, on: bool) -> None:
        """Commits synced to disk (``on``), as the event store's are, while this connection
        commits events too (the bulk path); projections alone are rebuildable."""
        mode = "FULL" if on else "NORMAL"
        conn.connection.driver_connection.execute(f"PRAGMA synchronous={mode}")  # type: ignore[union-attr]

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

    def insert_rows(
        self, conn: Connection, sql: str, table: str, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        """Rows (tuples in ``columns`` order) into ``table``: ``sql`` is its INSERT with
        positional parameters, run once by the driver's executemany."""
        conn.exec_driver_sql(sql, rows)

    # ------------------------------------------------------------------ spatial indexes

    def create_stabs(self, conn: Connection, tables: Tables) -> None:
        """The spatial indexes of ``tables.periods``, filled from its rows.

        SQLite: an R*Tree table per index, keyed by the period's ``id``, kept by triggers in
        the transaction that writes the period (so no code path can forget it).
        """
        p = tables.periods.name
        for stab, (days, where) in _SQLITE_ROWS.items():
            conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {p}_{stab} "
                "USING rtree_i32(id, a0, a1, v0, v1, r0, r1)"
            )
            conn.exec_driver_sql(
                f"INSERT INTO {p}_{stab} SELECT id, authority_key, authority_key, "  # noqa: S608 - constant names
                f"{days.format(p='')}, rec_from, "
                f"COALESCE(MAX(rec_from, rec_to - 1), {OPEN_POSITION}) FROM {p} "
                f"{where.format(p='')}"
            )
        inserts = " ".join(
            f"INSERT INTO {p}_{stab} SELECT new.id, new.authority_key, new.authority_key, "
            f"{days.format(p='new.')}, {_SQLITE_RECORD} {where.format(p='new.')};"
            for stab, (days, where) in _SQLITE_ROWS.items()
        )
        updates = " ".join(
            f"UPDATE {p}_{stab} SET r1 = COALESCE(MAX(new.rec_from, new.rec_to - 1), "  # noqa: S608 - constant names
            f"{OPEN_POSITION}) WHERE id = new.id;"
            for stab in STABS
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {p}_stabs_insert AFTER INSERT ON {p} BEGIN {inserts} END"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS {p}_stabs_update AFTER UPDATE OF rec_to ON {p} "
            f"BEGIN {updates} END"
        )

    def drop_stabs(self, conn: Connection, tables: Tables) -> None:
        for stab in STABS:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {tables.periods.name}_{stab}")

    def stab(self, tables: Tables, stab: Stab) -> ColumnElement[bool]:
        """Periods rows whose ``stab.name`` interval holds ``stab.day`` and whose record
        interval holds ``stab.k``: a condition that reads only those rows."""
        p = tables.periods
        where = " AND ".join(_sqlite_stab(stab, "stab_"))
        sql = f"SELECT id FROM {p.name}_{stab.name} WHERE {where}"  # noqa: S608 - constant names, bound values
        ids = text(sql).bindparams(**_params(stab))
        return p.c.id.in_(ids)

    def rows_read(self, conn: Connection, stmt: Any, tables: Tables, stab: Stab) -> int:
        """The periods rows ``stmt``, a query whose access path is ``stab``, reads.

        SQLite: each id the R*Tree yields is one row read by its key (that the plan is this
        is checked by ``tests/test_list_stabs.py``); they are counted by running the stab.
        """
        where = " AND ".join(_sqlite_stab(stab, "stab_"))
        sql = f"SELECT count(*) FROM {tables.periods.name}_{stab.name} WHERE {where}"  # noqa: S608 - constant names, bound values
        return int(conn.execute(text(sql), _params(stab)).scalar() or 0)

    # ------------------------------------------------------------------ rebuilds

    def before_swap(self, conn: Connection, fresh: Tables, live: Tables) -> None:
        """Nothing before the swap: SQLite indexes the swapped tables in the swap's own
        transaction (readers see the old tables until it commits)."""

    def swap(self, conn: Connection, fresh: Tables, live: Tables) -> None:
        """Replace the live tables by the fresh ones, inside the caller's transaction."""
        self.drop_stabs(conn, live)
        for table in reversed(live.all()):
            table.drop(conn, checkfirst=True)
        for new, old in zip(fresh.all(), live.all(), strict=True):
            conn.exec_driver_sql(f"ALTER TABLE {new.name} RENAME TO {old.name}")
        for table in live.all():
            for index in table.indexes:
                index.create(conn)
        self.create_stabs(conn, live)


class Postgres(Dialect):
    name = "postgresql"

    def json_array_has(self, column: Any, value: str) -> ColumnElement[bool]:
        # Here, not at the top: SQLAlchemy's PostgreSQL dialect loads only for PostgreSQL.
        from sqlalchemy.dialects.postgresql import JSONB

        return cast(column, JSONB).contains([value])

    def for_writing(self, conn: Connection) -> Connection:
        return conn

    def durable(self, conn: Connection, on: bool) -> None:
        pass  # every commit is durable

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

    def insert_rows(
        self, conn: Connection, sql: str, table: str, columns: tuple[str, ...], rows: list[Any]
    ) -> None:
        """COPY: psycopg's executemany sends an INSERT a row (about half of a rebuild's
        time here); the cursor is the connection's, inside its transaction."""
        import psycopg

        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def create_stabs(self, conn: Connection, tables: Tables) -> None:
        p = tables.periods.name
        suffix = tables.suffix
        base = p.removesuffix(suffix)
        for stab, (box, where) in _PG_BOXES.items():
            predicate = f" WHERE {where.format(p='')}" if where else ""
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {base}_{stab}{suffix} ON {p} USING gist "
                f"({_PG_AUTHORITY.format(p='')}, {box.format(p='')}){predicate}"
            )
        # Every period of one authority (what retracting its registration checks): the
        # boxes' authority dimension holds a dozen points, and a key between two of them
        # falls inside most pages' bounding boxes (1,694 of them read to find nothing at
        # 100,000 events); a B-tree finds it, or its absence, in a few pages.
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {base}_authority{suffix} ON {p} (authority_key)"
        )

    def drop_stabs(self, conn: Connection, tables: Tables) -> None:
        """Nothing: the indexes go with the table."""

    def stab(self, tables: Tables, stab: Stab) -> ColumnElement[bool]:
        p = f"{tables.periods.name}."
        box, where = _PG_BOXES[stab.name]
        terms = []
        if stab.authority_key is not None and stab.day is None and stab.k is None:
            terms.append(f"{p}authority_key = :stab_a")  # the B-tree (see create_stabs)
        elif stab.authority_key is not None:
            terms.append(
                f"{_PG_AUTHORITY.format(p=p)} && box(point(:stab_a, 0), point(:stab_a, 0))"
            )
        if stab.day is not None or stab.k is not None:
            # Unbounded sides stretch over every day or position the index can hold.
            corner = "point(:stab_day0, :stab_k0), point(:stab_day1, :stab_k1)"
            terms.append(f"{box.format(p=p)} && box({corner})")
        if where:
            terms.append(where.format(p=p))  # the partial index's own predicate
        sql = " AND ".join(terms)
        return text(sql).bindparams(**_pg_params(stab))  # type: ignore[return-value]

    def rows_read(self, conn: Connection, stmt: Any, tables: Tables, stab: Stab) -> int:
        """PostgreSQL: the heap rows of the periods table the executed plan fetched, from
        ``EXPLAIN ANALYZE`` (rows returned by its scans plus those they filtered out)."""
        compiled = stmt.compile(dialect=conn.dialect)
        plan = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params
        ).scalar()
        if isinstance(plan, str):
            plan = json.loads(plan)
        assert isinstance(plan, list)
        total = 0

        def walk(node: dict[str, Any]) -> None:
            nonlocal total
            if node.get("Relation Name") == tables.periods.name:
                loops = node.get("Actual Loops", 1)
                total += loops * (
                    node.get("Actual Rows", 0)
                    + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0)
                )
            for child in node.get("Plans", []):
                walk(child)

        walk(plan[0]["Plan"])
        return total

    def before_swap(self, conn: Connection, fresh: Tables, live: Tables) -> None:
        """The fresh tables' indexes, built before the swap so that the swap, which holds
        every projection table's lock, takes only a moment (readers wait for it)."""
        for new, old in zip(fresh.all(), live.all(), strict=True):
            for index in old.indexes:
                columns = ", ".join(str(c.name) for c in index.columns)
                conn.exec_driver_sql(
                    f"CREATE INDEX {index.name}{fresh.suffix} ON {new.name} ({columns})"
                )
        self.create_stabs(conn, fresh)
        for table in fresh.all():
            conn.exec_driver_sql(f"ANALYZE {table.name}")

    def swap(self, conn: Connection, fresh: Tables, live: Tables) -> None:
        for table in reversed(live.all()):
            table.drop(conn, checkfirst=True)
        suffix = fresh.suffix
        for new, old in zip(fresh.all(), live.all(), strict=True):
            conn.exec_driver_sql(f"ALTER TABLE {new.name} RENAME TO {old.name}")
            constraints = conn.execute(
                text(
                    "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                    "AND position(:s in conname) > 0"
                ),
                {"t": old.name, "s": suffix},
            ).scalars()
            for name in list(constraints):
                conn.exec_driver_sql(
                    f'ALTER TABLE {old.name} RENAME CONSTRAINT "{name}" '
                    f'TO "{name.replace(suffix, "")}"'
                )
            indexes = conn.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                    "AND tablename = :t AND position(:s in indexname) > 0"
                ),
                {"t": old.name, "s": suffix},
            ).scalars()
            for name in list(indexes):
                conn.exec_driver_sql(f'ALTER INDEX "{name}" RENAME TO "{name.replace(suffix, "")}"')


@dataclass(frozen=True)
class Stab:
    """One stab into a spatial index: its name (``STABS``), the day, the known-at position
    and the authority (its ``authority_key``; None for every authority)."""

    name: str
    day: date | None  # None: every day
    k: int | None  # None: every position
    authority_key: int | None = None


def _sqlite_stab(stab: Stab, prefix: str) -> list[str]:
    """The R*Tree's constraints for a stab (bound as ``_params`` names them)."""
    terms = []
    if stab.day is not None:
        terms.append(f"v0 <= :{prefix}day AND v1 >= :{prefix}day")
    if stab.k is not None:
        terms.append(f"r0 <= :{prefix}k AND r1 >= :{prefix}k")
    if stab.authority_key is not None:
        terms.append(f"a0 <= :{prefix}a AND a1 >= :{prefix}a")
    return terms or ["1"]


def _params(stab: Stab) -> dict[str, int]:
    """SQLite's bound values for ``_sqlite_stab``."""
    params: dict[str, int] = {}
    if stab.day is not None:
        params["stab_day"] = stab.day.toordinal()
    if stab.k is not None:
        params["stab_k"] = stab.k
    if stab.authority_key is not None:
        params["stab_a"] = stab.authority_key
    return params


def _pg_params(stab: Stab) -> dict[str, int]:
    """PostgreSQL's: the stab as a box's corners, an unbounded side as the whole range."""
    params: dict[str, int] = {}
    if stab.authority_key is not None:
        params["stab_a"] = stab.authority_key
    if stab.day is not None or stab.k is not None:
        day = stab.day.toordinal() if stab.day is not None else None
        params["stab_day0"] = day if day is not None else 0
        params["stab_day1"] = day if day is not None else OPEN_DAY
        params["stab_k0"] = stab.k if stab.k is not None else 0
        params["stab_k1"] = stab.k if stab.k is not None else OPEN_POSITION
    return params


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
