"""The event store: one ``--db`` URL, and the recorder that owns positions and record time.

The library's recorders are kept for reading aggregates; this module's subclasses own the
table layout and the write path:

- ``position``: an explicit ``INTEGER PRIMARY KEY`` (gapless, never renumbered by VACUUM),
  assigned as head + 1 while holding the write lock;
- ``recorded_at``: the ledger's UTC clock read while holding the write lock, never earlier
  than the head's (so record time never goes backwards in ledger order); it also replaces the
  event's client-side ``timestamp`` in the stored state, so an event has one time;
- ``digest``: SHA-256 over the event's stored content and the previous digest;
- triggers that make the table append-only in the database itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ledger import DEFAULT_URL as DEFAULT_URL  # defined where --help reads it cheaply
from ledger.errors import (
    CannotOpen,
    ConcurrentWrite,
    IntegrityFailure,
    LedgerBusy,
    LedgerError,
    NewerLedger,
    NoLedger,
    ReadOnly,
)

if TYPE_CHECKING:  # the driver loads only for a PostgreSQL URL (start-up time)
    import psycopg

EVENTS_TABLE = "ledger_events"


def lock_timeout() -> int:
    """Seconds a writer waits for the write lock ($SANCTIONS_LOCK_TIMEOUT, default 60)."""
    try:
        return max(1, int(os.environ.get("SANCTIONS_LOCK_TIMEOUT", "60")))
    except ValueError:
        return 60


GENESIS = "0" * 64


# --------------------------------------------------------------------------- URLs

LEDGER_VERSION = 1
"""The store layout this code reads and writes, kept in the ledger by ``sanctions init``.

A ledger written before ``init`` existed has no such row: it is version 1, and opening it
writes nothing (read-only users open it too).
"""

META_TABLE = "ledger_meta"

URL_FORMS = "use sqlite:///FILE or postgresql://USER@HOST:PORT/DB"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def connect_timeout() -> int:
    """Seconds to wait for a PostgreSQL server ($SANCTIONS_CONNECT_TIMEOUT, default 5).

    libpq waits at least 2 seconds, whatever is asked.
    """
    try:
        return max(1, int(os.environ.get("SANCTIONS_CONNECT_TIMEOUT", "5")))
    except ValueError:
        return 5


def _may(path: Path, mode: int) -> bool:
    """Whether this process may access ``path`` so (by its effective ids, as open() does)."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def hide_password(url: str) -> str:
    """The URL as given, for messages, with any password replaced by ``***``."""
    return re.sub(r"^([^:/?#]+://[^/?#@:]*:)[^/?#]*@", r"\1***@", url)


@dataclass(frozen=True)
class Access:
    """What this process found at a URL, and may do there."""

    created: bool
    """No ledger was there: opening creates an empty one (``sanctions init``)."""
    read_only: str = ""
    """Why nothing can be written here (empty when the ledger is writable)."""
    version: int = LEDGER_VERSION
    sqlite_uri: str = ""
    """How to open the SQLite file: ``mode=rwc`` to create, ``rw``, ``ro`` or ``immutable``."""


@dataclass(frozen=True)
class Database:
    """A parsed ``--db`` URL: which store, where."""

    url: str
    kind: str  # "sqlite" | "postgresql"
    path: str = ""
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"
    display: str = ""
    """The URL for messages: as given, its password hidden."""
    read_only: bool = False
    """The URL asks for read-only access (SQLite ``?mode=ro``)."""

    @classmethod
    def parse(cls, url: str) -> Database:
        shown = hide_password(url)
        if _CONTROL.search(url) or _CONTROL.search(unquote(url)):  # a NUL would not even stat
            raise LedgerError(f"bad database URL {shown!r}: it holds a control character")
        try:
            parts = make_url(url)
        except (ArgumentError, ValueError):
            raise LedgerError(f"bad database URL {shown!r}: {URL_FORMS}") from None
        try:
            port = parts.port
        except ValueError:  # make_url reads the port lazily
            raise LedgerError(f"bad database URL {shown!r}: the port must be a number") from None
        backend = parts.get_backend_name()
        query = dict(parts.query)
        if backend == "sqlite":
            path = parts.database or ""
            # A trailing "/" means a folder: the file must be named, not made up.
            if (
                parts.host
                or not path
                or path.endswith("/")
                or ":memory:" in url
                or ("mode=memory" in url)
            ):
                raise LedgerError(
                    f"bad database URL {shown!r}: give a file, e.g. sqlite:///sanctions.db "
                    "(relative) or sqlite:////abs/path.db"
                )
            mode = query.pop("mode", None)
            if query or mode not in (None, "ro"):
                raise LedgerError(
                    f"bad database URL {shown!r}: an SQLite URL takes no parameter but "
                    "?mode=ro (read only)"
                )
            return cls(
                url=url, kind="sqlite", path=unquote(path), display=shown, read_only=bool(mode)
            )
        if backend in ("postgresql", "postgres"):
            schema = query.pop("schema", "public")
            if not isinstance(schema, str):
                raise LedgerError(f"bad database URL {shown!r}: give ?schema= once")
            if query:
                raise LedgerError(
                    f"bad database URL {shown!r}: unknown parameter "
                    f"{', '.join(sorted(query))} (a PostgreSQL URL takes ?schema=NAME)"
                )
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
                raise LedgerError(
                    f"bad database URL: schema {schema!r} must be lower-case letters, digits "
                    "and underscores (it names the same schema in SQL and in the search path)"
                )
            if not parts.database:
                raise LedgerError(
                    f"bad database URL {shown!r}: name the database, e.g. "
                    "postgresql://USER@HOST:PORT/DB"
                )
            return cls(
                url=url,
                kind="postgresql",
                host=parts.host or "127.0.0.1",
                port=str(port or 5432),
                user=parts.username or "postgres",
                password=parts.password or "",
                dbname=parts.database,
                schema=schema,
                display=shown,
            )
        raise LedgerError(f"bad database URL {shown!r}: {URL_FORMS}")

    # ------------------------------------------------------------------ opening

    def open(self, *, create: bool = False) -> Access:
        """Find the ledger at this URL, changing nothing; or check that one can be created.

        Raises :class:`NoLedger` when there is none (unless ``create``), :class:`CannotOpen`
        with the cause when the URL cannot be used, and :class:`NewerLedger` for a ledger
        written by a later version.
        """
        if self.kind == "sqlite":
            return self._open_sqlite(create)
        return self._open_postgres(create)

    def _no_ledger(self) -> NoLedger:
        return NoLedger(f"no ledger at {self.display}; 'sanctions init' creates one")

    def _check_version(self, value: Any) -> int:
        try:
            version = int(value)
        except (TypeError, ValueError):
            raise CannotOpen(
                f"cannot open the ledger at {self.display}: its schema version {value!r} is "
                "not a number"
            ) from None
        if version > LEDGER_VERSION:
            raise NewerLedger(
                f"cannot open the ledger at {self.display}: it has schema version {version}, "
                f"written by a newer sanctions-ledger (this one reads up to {LEDGER_VERSION}); "
                "upgrade sanctions-ledger"
            )
        return version

    def sqlite_uri(self, mode: str, *, immutable: bool = False) -> str:
        """An SQLite URI for the file: ``mode=rw`` never creates it, unlike a plain name."""
        path = quote(str(Path(self.path).absolute()), safe="/")
        return f"file:{path}?mode={mode}" + ("&immutable=1" if immutable else "")

    def _open_sqlite(self, create: bool) -> Access:
        where, path = self.display, Path(self.path)
        folder = path.parent
        try:
            if path.is_dir():
                raise CannotOpen(
                    f"cannot open the ledger at {where}: {path} is a folder; name a file in "
                    f"it, e.g. sqlite:///{path / 'sanctions.db'}"
                )
            exists = path.exists()
            if not exists and not create:
                raise self._no_ledger()
            if not exists:
                if not folder.is_dir():
                    missing = "is not a folder" if folder.exists() else "does not exist"
                    raise CannotOpen(
                        f"cannot create a ledger at {where}: the folder {folder} {missing}; "
                        "create it first"
                    )
                denied = (
                    "the URL asks for mode=ro"
                    if self.read_only
                    else self.read_only_reason(folder, f"the folder {folder}")
                )
                if denied:
                    raise CannotOpen(f"cannot create a ledger at {where}: {denied}")
                return Access(created=True, sqlite_uri=self.sqlite_uri("rwc"))
            if not _may(path, os.R_OK):
                raise CannotOpen(f"cannot open the ledger at {where}: no permission to read {path}")
        except OSError as e:  # a folder on the way that may not be searched, ...
            raise CannotOpen(f"cannot open the ledger at {where}: {e.strerror}") from None
        reason = self.read_only_reason(path, str(path)) or self.read_only_reason(
            folder, f"its folder {folder}"
        )
        if reason:
            uri = self._read_only_uri(path)
        elif self.read_only:
            reason, uri = "the URL asks for mode=ro", self.sqlite_uri("ro")
        else:
            uri = self.sqlite_uri("rw")
        try:
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                tables = {
                    name
                    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                row = None
                if META_TABLE in tables:
                    row = conn.execute(
                        f"SELECT value FROM {META_TABLE} WHERE name = 'schema_version'"  # noqa: S608 - a constant
                    ).fetchone()
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e):
                raise CannotOpen(
                    f"cannot open the ledger at {where}: {path} is not an SQLite database"
                ) from None
            raise CannotOpen(
                f"cannot open the ledger at {where}: {e}"
                + (f" (read-only here: {reason})" if reason else "")
            ) from None
        if EVENTS_TABLE not in tables:
            if not create:
                raise self._no_ledger()
            others = sorted(tables - {META_TABLE})
            if others:
                raise CannotOpen(
                    f"cannot create a ledger at {where}: the file holds another database "
                    f"(tables: {', '.join(others[:5])}); name a new file"
                )
            if reason:
                raise CannotOpen(f"cannot create a ledger at {where}: {reason}")
            return Access(created=True, sqlite_uri=self.sqlite_uri("rw"))
        version = self._check_version(row[0]) if row is not None else LEDGER_VERSION
        return Access(created=False, read_only=reason, version=version, sqlite_uri=uri)

    def read_only_reason(self, target: Path, name: str) -> str:
        """Why this process cannot write ``target`` (empty when it can)."""
        if _may(target, os.W_OK):
            return ""
        try:
            if os.statvfs(target).f_flag & os.ST_RDONLY:
                return f"{name} is on a read-only file system"
        except OSError:
            pass
        return f"no write permission on {name}"

    def _read_only_uri(self, path: Path) -> str:
        """How to read a WAL-mode file without creating its -shm and -wal files.

        Created by a reader, they would belong to the reader, and the owner could no longer
        write. While a writer has the file open they exist, and ``mode=ro`` reads them;
        otherwise the file alone is the whole ledger and is read as ``immutable``.
        """
        if Path(f"{path}-wal").exists():
            if not Path(f"{path}-shm").exists():
                raise CannotOpen(
                    f"cannot open the ledger at {self.display}: its write-ahead log "
                    f"{path}-wal has no {path}-shm beside it, which this process may not "
                    "create; open the ledger once with write access"
                )
            return self.sqlite_uri("ro")
        if Path(f"{path}-journal").exists():
            raise CannotOpen(
                f"cannot open the ledger at {self.display}: a write was interrupted "
                f"({path}-journal is left) and this process may not finish it; open the "
                "ledger once with write access"
            )
        return self.sqlite_uri("ro", immutable=True)

    def _connect_postgres(self) -> psycopg.Connection[Any]:
        import psycopg

        timeout = connect_timeout()
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                dbname=self.dbname,
                connect_timeout=timeout,
                autocommit=True,
                password=self.password or None,  # None: libpq's own (e.g. ~/.pgpass)
            )
        except psycopg.errors.ConnectionTimeout:
            raise CannotOpen(
                f"cannot reach the database at {self.display}: no answer within "
                f"{max(2, timeout)} s ($SANCTIONS_CONNECT_TIMEOUT sets the wait)"
            ) from None
        except psycopg.Error as e:
            raise CannotOpen(
                f"cannot open the ledger at {self.display}: {postgres_cause(e)}"
            ) from None

    def _open_postgres(self, create: bool) -> Access:
        import psycopg
        from psycopg.sql import SQL, Identifier

        events = f'"{self.schema}".{EVENTS_TABLE}'
        meta = f'"{self.schema}".{META_TABLE}'
        with self._connect_postgres() as conn:
            try:
                # has_table_privilege fails on a missing table: asked only of those there.
                row = conn.execute(
                    "SELECT to_regclass(%(events)s) IS NOT NULL, "
                    "to_regclass(%(meta)s) IS NOT NULL, "
                    "current_setting('transaction_read_only') = 'on', "
                    "CASE WHEN to_regclass(%(events)s) IS NOT NULL "
                    "THEN has_table_privilege(%(events)s, 'INSERT') END, "
                    "CASE WHEN to_regclass(%(meta)s) IS NOT NULL "
                    "THEN has_table_privilege(%(meta)s, 'SELECT') END",
                    {"events": events, "meta": meta},
                ).fetchone()
                assert row is not None
                has_events, has_meta, server_read_only, can_insert, can_read_meta = row
                reason = (
                    "the server is read-only: a standby, or default_transaction_read_only"
                    if server_read_only
                    else ""
                )
                if not has_events:
                    if not create:
                        raise self._no_ledger()
                    if reason:
                        raise CannotOpen(f"cannot create a ledger at {self.display}: {reason}")
                    return Access(created=True)
                if has_meta and not can_read_meta:  # init grants it to every role
                    raise CannotOpen(
                        f"cannot open the ledger at {self.display}: the role {self.user} may "
                        f"not read {self.schema}.{META_TABLE} (the ledger's schema version); "
                        "grant it SELECT"
                    )
                version = None
                if has_meta:
                    found = conn.execute(
                        SQL("SELECT value FROM {}.{} WHERE name = 'schema_version'").format(
                            Identifier(self.schema), Identifier(META_TABLE)
                        )
                    ).fetchone()
                    version = found[0] if found is not None else None
            except psycopg.Error as e:
                raise CannotOpen(
                    f"cannot open the ledger at {self.display}: {postgres_cause(e)}"
                ) from None
        if not can_insert and not reason:
            reason = f"the role {self.user} may not insert into {self.schema}.{EVENTS_TABLE}"
        return Access(
            created=False,
            read_only=reason,
            version=self._check_version(version) if version is not None else LEDGER_VERSION,
        )

    # ------------------------------------------------------------------ settings

    def eventsourcing_env(self, access: Access) -> dict[str, str]:
        """The library's settings for this database: always a real, persistent store.

        Tables are created only when ``access`` says the ledger is new (``sanctions init``).
        """
        create = "y" if access.created else "n"
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "ledger.store:SQLiteLedgerRecorder",
                "SQLITE_DBNAME": access.sqlite_uri,
                "SQLITE_LOCK_TIMEOUT": str(lock_timeout()),
                "CREATE_TABLE": create,
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "ledger.store_postgres:PostgresLedgerRecorder",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": self.port,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_LOCK_TIMEOUT": str(lock_timeout()),
            "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout()),
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "CREATE_TABLE": create,
        }

    def sqlalchemy_url(self) -> URL:
        """The PostgreSQL database for SQLAlchemy (SQLite files are opened by URI)."""
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=int(self.port),
            database=self.dbname,
        )


def driver_errors() -> tuple[type[Exception], ...]:
    """The database drivers' error classes; psycopg's only once it is loaded (for a
    PostgreSQL URL): none of its errors can have been raised before."""
    psycopg = sys.modules.get("psycopg")
    return (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)


def postgres_cause(error: psycopg.Error) -> str:
    """libpq's message on one line, without the "connection to server ... failed:" preamble."""
    text = str(error).rsplit(" failed: ", 1)[-1]
    lines = [line.strip().removeprefix("FATAL:").strip() for line in text.splitlines()]
    return "; ".join(line for line in lines if line) or type(error).__name__


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


@lru_cache(maxsize=1024)  # an import stamps thousands of events with one record time
def format_time(moment: datetime) -> str:
    """Record times as text: UTC, ISO 8601, always with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


_UNSTAMPED = b'"timestamp":{"_type_":"datetime_iso","_data_":"1970-01-01T00:00:00+00:00"}'


def stamp_state(state: bytes, recorded_at: datetime) -> bytes:
    """The stored form of an event's state: its timestamp is the record time."""
    stamp = (
        b'"timestamp":{"_type_":"datetime_iso","_data_":"'
        + format_time(recorded_at).encode()
        + b'"}'
    )
    # Events are encoded with a fixed placeholder timestamp (ledger.domain.UNSTAMPED), the
    # first field after the id and version: replacing its first occurrence is exact.
    stamped = state.replace(_UNSTAMPED, stamp, 1)
    if stamped is not state and stamped != state:
        return stamped
    fields = json.loads(state)
    fields["timestamp"] = {"_type_": "datetime_iso", "_data_": format_time(recorded_at)}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


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
        return cur.raw if isinstance(cur, _TupleCursor) else cur

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
    def appending(self, *, expect_head: int | None = None) -> Iterator[Appender]:
        """One write transaction, holding the write lock, for any number of batches.

        Rows written are visible through the appender (``events_of``, ``locate``, ``scan``)
        before they are committed: an import can stream a large file in bounded memory and
        still write all of it or nothing.
        """
        if self.refusal:
            raise ReadOnly(self.refusal)
        with self._write_transaction() as cur:
            appender = Appender(self, cur)
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
        batches: Iterable[Sequence[tuple[StoredEvent, Restored | None]]],
        *,
        expect_head: int | None = None,
    ) -> Appended:
        """Append every batch in one transaction, holding the write lock throughout."""
        with self.appending(expect_head=expect_head) as appender:
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
        appended = self.append([[(e, None) for e in stored_events]])
        return list(range(appended.first, appended.last + 1))


class Appender:
    """Writes events at the head of the ledger inside one held write transaction."""

    def __init__(self, recorder: LedgerRecorderMixin, cur: Any) -> None:
        self.recorder = recorder
        self.cur = cur
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

    def write(self, batch: Sequence[tuple[StoredEvent, Restored | None]]) -> None:
        rec = self.recorder
        params = []
        for stored, restored in batch:
            self.position += 1
            recorded_at = self.now
            if restored is not None:
                recorded_at = rec._check_restored(restored, self.position, self.last_time)
                self.last_time = recorded_at
            state = stamp_state(stored.state, recorded_at)
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
                raise LedgerBusy(
                    f"the ledger is busy: another process has been writing for a while (an "
                    f"import?); nothing was written, try again ({e})"
                ) from None
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
