"""Where the ledger is: one ``--db`` URL parsed, checked and opened, changing nothing.

:class:`Database` reads a ``sqlite:///FILE`` or ``postgresql://USER@HOST:PORT/DB`` URL, finds
the ledger there (or says why it cannot be used), tells whether this process may write it, and
gives the eventsourcing library's settings for it. The event table itself is
``ledger.store`` (the write path) and ``ledger.recorders`` (one recorder per database).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from ledger import DEFAULT_URL as DEFAULT_URL  # defined where --help reads it cheaply
from ledger.errors import CannotOpen, LedgerError, NewerLedger, NoLedger

if TYPE_CHECKING:  # the driver loads only for a PostgreSQL URL (start-up time)
    import psycopg
    from sqlalchemy.engine import URL

EVENTS_TABLE = "ledger_events"


def lock_timeout() -> int:
    """Seconds a writer waits for the write lock ($SANCTIONS_LOCK_TIMEOUT, default 60)."""
    try:
        return max(1, int(os.environ.get("SANCTIONS_LOCK_TIMEOUT", "60")))
    except ValueError:
        return 60


# --------------------------------------------------------------------------- URLs

LEDGER_VERSION = 1
"""The store layout this code reads and writes, kept in the ledger by ``sanctions init``.

A ledger written before ``init`` existed has no such row: it is version 1, and opening it
writes nothing (read-only users open it too).
"""

META_TABLE = "ledger_meta"

URL_FORMS = "use sqlite:///FILE or postgresql://USER@HOST:PORT/DB"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


IDLE_IN_TRANSACTION = 600
"""Seconds a PostgreSQL write transaction may wait on this process between statements."""


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


_PLAIN_SQLITE = re.compile(r"sqlite:///([^?#%@:\s\x00-\x1f\x7f]+)(\?mode=ro)?")
"""A plain SQLite URL: a path without anything a URL parser would read otherwise."""


def hide_password(url: str) -> str:
    """The URL as given, for messages, with any password replaced by ``***``."""
    return re.sub(r"^([^:/?#]+://[^/?#@:]*:)[^/?#]*@", r"\1***@", url)


_PG_KEYWORDS = """
    all analyse analyze and any array as asc asymmetric authorization between bigint binary
    bit boolean both case cast char character check coalesce collate collation column
    concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user dec decimal default deferrable
    desc distinct do else end except exists extract false fetch float for foreign freeze from
    full grant greatest group grouping having ilike in initially inner inout int integer
    intersect interval into is isnull join lateral leading least left like limit localtime
    localtimestamp national natural nchar none normalize not notnull null nullif numeric
    offset on only or order out outer overlaps overlay placing position precision primary real
    references returning right row select session_user setof similar smallint some substring
    symmetric table tablesample then time timestamp to trailing treat trim true union unique
    user using values varchar variadic verbose when where window with xmlattributes xmlconcat
    xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize
    xmltable"""
PG_KEYWORDS = frozenset(_PG_KEYWORDS.split())
"""PostgreSQL 15's keywords that are not unreserved (``pg_get_keywords()``): eventsourcing
writes ``{schema}.{type}`` unquoted, and such a schema is a syntax error there."""


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
    def parse_plain_sqlite(cls, url: str) -> Database | None:
        """``parse`` of a plain ``sqlite:///FILE`` URL (``?mode=ro`` at most) without
        SQLAlchemy's URL parser (a read's start-up time); None for any other URL: only
        ``parse`` reads those (the same result for these is checked by a test)."""
        found = _PLAIN_SQLITE.fullmatch(url)
        if found is None or found[1].endswith("/"):
            return None
        return cls(
            url=url,
            kind="sqlite",
            path=found[1],
            display=hide_password(url),
            read_only=bool(found[2]),
        )

    @classmethod
    def parse(cls, url: str) -> Database:
        shown = hide_password(url)
        if _CONTROL.search(url) or _CONTROL.search(unquote(url)):  # a NUL would not even stat
            raise LedgerError(f"bad database URL {shown!r}: it holds a control character")
        from sqlalchemy.engine import make_url  # not for a plain SQLite URL (start-up time)
        from sqlalchemy.exc import ArgumentError

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
            if schema in PG_KEYWORDS:
                raise LedgerError(
                    f"bad database URL: schema {schema!r} is a word PostgreSQL reserves (the "
                    f"event store names it unquoted): choose another, e.g. {schema}_ledger"
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
                "APPLICATION_RECORDER_TOPIC": "ledger.recorders:SQLiteLedgerRecorder",
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
            # The library ends a transaction idle for 5 s; an import keeps its one transaction
            # open while it checks the next chunk of events, which takes longer on a busy
            # machine. A dead client still ends its transaction with its connection.
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(IDLE_IN_TRANSACTION),
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
            "CREATE_TABLE": create,
        }

    def sqlalchemy_url(self) -> URL:
        """The PostgreSQL database for SQLAlchemy (SQLite files are opened by URI)."""
        from sqlalchemy.engine import URL

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
