"""Where the ledger is: 'sanctions init' makes one; every other command needs one.

A mistyped ``--db`` must never look like an empty ledger: where there is no ledger every
command says so, exits 1 and creates nothing (no file, no folder, no schema, no table). A
URL that cannot be used (a folder, a file that is not a database, a server that refuses or
never answers, a ledger from a newer version) is one ``Error:`` line with the URL, its
password hidden, and the cause.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from psycopg import sql
from support import (
    EXAMPLE,
    FIXTURES,
    POSTGRES_ENV,
    Sanctions,
    postgres_schema,
    sqlite_url_in,
)

from ledger import Ledger
from ledger.store import LEDGER_VERSION, META_TABLE

QUESTION = ("list", "--authority", "EU", "--at", "2021-03-03")

COMMANDS = [
    QUESTION,
    ("show", "igor-krasnov"),
    ("history", "igor-krasnov"),
    ("log",),
    ("head",),
    ("verify",),
    ("export",),
    ("rebuild",),
    ("search", "Krasnov"),
    ("subject", "add", "Igor Krasnov"),
    ("import", str(EXAMPLE)),
]


def error_line(result: Result) -> str:
    """The one ``Error:`` line of a refused command; no traceback, nothing on stdout."""
    assert "Traceback" not in result.output, result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


def schema_of(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def pg_catalog(schema: str) -> tuple[bool, list[str]]:
    """Whether the schema exists, and the tables in it."""
    with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0]) as conn:
        exists = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        ).fetchall()
    return bool(exists and exists[0]), [t for (t,) in tables]


def pg_dump(url: str) -> dict[str, list[str]]:
    """Every row of every table in the ledger's schema."""
    schema = schema_of(url)
    _, tables = pg_catalog(schema)
    with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0]) as conn:
        return {
            t: sorted(
                map(
                    repr,
                    conn.execute(
                        sql.SQL("SELECT * FROM {}.{}").format(
                            sql.Identifier(schema), sql.Identifier(t)
                        )
                    ).fetchall(),
                )
            )
            for t in tables
        }


def nothing_there(url: str, folder: Path) -> object:
    """What a store looks like where there is no ledger: to compare after a command."""
    if url.startswith("sqlite"):
        return files_under(folder)
    return pg_catalog(schema_of(url))


# ---------------------------------------------------------------------------- no ledger


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_where_there_is_no_ledger_is_refused_and_creates_nothing(
    nowhere_url: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    before = nothing_there(nowhere_url, tmp_path)
    result = Sanctions(nowhere_url, init=False)(*args)
    assert error_line(result) == f"Error: no ledger at {nowhere_url}; 'sanctions init' creates one"
    assert result.exit_code == 1
    assert nothing_there(nowhere_url, tmp_path) == before


def test_a_mistyped_folder_is_no_ledger_and_no_folder_is_made(tmp_path: Path) -> None:
    (tmp_path / "ledger").mkdir()
    Sanctions(sqlite_url_in(tmp_path / "ledger")).ok("import", str(EXAMPLE))
    typo = f"sqlite:///{tmp_path / 'ledgr' / 'typo.db'}"
    result = Sanctions(typo, init=False)(*QUESTION)
    assert error_line(result) == f"Error: no ledger at {typo}; 'sanctions init' creates one"
    assert result.exit_code == 1
    assert not (tmp_path / "ledgr").exists()


def test_the_default_ledger_in_the_current_folder_must_exist_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SANCTIONS_DB", raising=False)
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(cli, list(QUESTION))
    assert error_line(result) == (
        "Error: no ledger at sqlite:///sanctions.db; 'sanctions init' creates one"
    )
    assert result.exit_code == 1
    assert list(tmp_path.iterdir()) == []
    assert CliRunner().invoke(cli, ["init"]).stdout == (
        "Created an empty ledger at sqlite:///sanctions.db\n"
    )
    assert (tmp_path / "sanctions.db").is_file()


def test_an_empty_database_or_one_of_something_else_is_no_ledger(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    before = files_under(tmp_path)
    for path in (empty, other):
        url = f"sqlite:///{path}"
        result = Sanctions(url, init=False)(*QUESTION)
        assert error_line(result) == f"Error: no ledger at {url}; 'sanctions init' creates one"
        assert result.exit_code == 1
    assert files_under(tmp_path) == before


@pytest.mark.postgres
def test_a_postgresql_schema_of_something_else_is_no_ledger(postgres_url: str) -> None:
    # Another schema in the same database: it exists, with tables that are not a ledger.
    with postgres_schema() as other:
        schema = schema_of(other)
        with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0], autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL("CREATE TABLE {}.invoices (id int)").format(sql.Identifier(schema))
            )
        result = Sanctions(other, init=False)(*QUESTION)
        assert error_line(result) == f"Error: no ledger at {other}; 'sanctions init' creates one"
        assert result.exit_code == 1
        assert pg_catalog(schema) == (True, ["invoices"])


# ---------------------------------------------------------------------------- init


def test_init_creates_an_empty_ledger_and_says_where(nowhere_url: str) -> None:
    sanctions = Sanctions(nowhere_url, init=False)
    result = sanctions.ok("init")
    assert result.stdout == f"Created an empty ledger at {nowhere_url}\n"
    assert sanctions.head() == (0, "0" * 64)
    assert sanctions.ok(*QUESTION).stdout == "No designation in force.\n"
    ledger = Ledger(nowhere_url)
    try:
        assert ledger.access.version == LEDGER_VERSION
        assert not ledger.created and not ledger.read_only
    finally:
        ledger.close()
    assert stored_version(nowhere_url) == str(LEDGER_VERSION)


def stored_version(url: str) -> str | None:
    """The schema version row that init writes, read directly from the store."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(
                f"SELECT value FROM {META_TABLE} WHERE name = 'schema_version'"
            ).fetchone()
        conn.close()
    else:
        with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0]) as conn:
            row = conn.execute(
                sql.SQL("SELECT value FROM {}.{} WHERE name = 'schema_version'").format(
                    sql.Identifier(schema_of(url)), sql.Identifier(META_TABLE)
                )
            ).fetchone()
    return None if row is None else str(row[0])


def test_init_on_an_existing_ledger_says_so_and_changes_nothing(
    sanctions: Sanctions, db_url: str, tmp_path: Path
) -> None:
    sanctions.ok("import", str(EXAMPLE))
    before = files_under(tmp_path) if db_url.startswith("sqlite") else pg_dump(db_url)
    result = sanctions.ok("init")
    assert result.stdout == (
        f"A ledger already exists at {db_url} (41 events); nothing was changed\n"
    )
    after = files_under(tmp_path) if db_url.startswith("sqlite") else pg_dump(db_url)
    assert after == before


def test_init_on_a_ledger_written_before_init_existed_writes_nothing(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "ledger-written-before-issue-5.db", tmp_path / "ledger.db")
    before = files_under(tmp_path)
    old = Sanctions(sqlite_url_in(tmp_path), init=False)
    result = old.ok("init")
    assert result.stdout.startswith("A ledger already exists at ")
    assert result.stdout.endswith(" (41 events); nothing was changed\n")
    assert files_under(tmp_path) == before  # no version row: it is version 1 implicitly
    ledger = Ledger(old.url)
    try:
        assert ledger.access.version == 1
    finally:
        ledger.close()


def test_init_refuses_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'ledger.db'}"
    result = Sanctions(url, init=False)("init")
    assert error_line(result) == (
        f"Error: cannot create a ledger at {url}: the folder {tmp_path / 'no' / 'such'} "
        "does not exist; create it first"
    )
    assert result.exit_code == 1
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_to_add_a_ledger_to_a_database_of_something_else(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    before = files_under(tmp_path)
    url = f"sqlite:///{path}"
    result = Sanctions(url, init=False)("init")
    assert error_line(result) == (
        f"Error: cannot create a ledger at {url}: the file holds another database "
        "(tables: invoices); name a new file"
    )
    assert files_under(tmp_path) == before


@pytest.mark.postgres
def test_init_makes_the_schema_in_an_existing_database() -> None:
    with postgres_schema() as url:
        schema = schema_of(url)
        assert pg_catalog(schema) == (False, [])
        Sanctions(url, init=False).ok("init")
        exists, tables = pg_catalog(schema)
    assert exists and {"ledger_events", META_TABLE, "view_tracking"} <= set(tables)


def test_ledger_init_in_code_creates_and_ledger_in_code_does_not(nowhere_url: str) -> None:
    with pytest.raises(Exception, match="no ledger at"):
        Ledger(nowhere_url)
    ledger = Ledger.init(nowhere_url)
    try:
        assert ledger.created
        ledger.register_subject("Igor Krasnov")
    finally:
        ledger.close()
    again = Ledger.init(nowhere_url)
    try:
        assert not again.created and again.head()[0] == 1
    finally:
        again.close()


# ---------------------------------------------------------------------------- bad places


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"
    before = files_under(tmp_path)
    for args in (QUESTION, ("init",)):
        result = Sanctions(url, init=False)(*args)
        assert error_line(result) == (
            f"Error: cannot open the ledger at {url}: {tmp_path} is a folder; name a file in "
            f"it, e.g. sqlite:///{tmp_path / 'sanctions.db'}"
        )
        assert result.exit_code == 1
    assert files_under(tmp_path) == before


def test_a_file_that_is_not_an_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 200)
    url = f"sqlite:///{path}"
    for args in (QUESTION, ("init",), ("subject", "add", "Igor Krasnov")):
        result = Sanctions(url, init=False)(*args)
        assert error_line(result) == (
            f"Error: cannot open the ledger at {url}: {path} is not an SQLite database"
        )
        assert result.exit_code == 1
    assert path.read_text() == "not a database\n" * 200
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def make_newer(url: str) -> None:
    """The ledger as a later version would leave it: a higher schema version."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(f"UPDATE {META_TABLE} SET value = '{LEDGER_VERSION + 1}'")
        conn.close()
    else:
        with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0], autocommit=True) as conn:
            conn.execute(
                sql.SQL("UPDATE {}.{} SET value = %s").format(
                    sql.Identifier(schema_of(url)), sql.Identifier(META_TABLE)
                ),
                (str(LEDGER_VERSION + 1),),
            )


@pytest.mark.parametrize(
    "args", [QUESTION, ("init",), ("subject", "add", "Viktor Zolotov")], ids=" ".join
)
def test_a_ledger_from_a_newer_version_is_refused(
    sanctions: Sanctions, db_url: str, args: tuple[str, ...]
) -> None:
    sanctions.ok("subject", "add", "Igor Krasnov")
    make_newer(db_url)
    result = sanctions(*args)
    assert error_line(result) == (
        f"Error: cannot open the ledger at {db_url}: it has schema version "
        f"{LEDGER_VERSION + 1}, written by a newer sanctions-ledger (this one reads up to "
        f"{LEDGER_VERSION}); upgrade sanctions-ledger"
    )
    assert result.exit_code == 1
    assert stored_version(db_url) == str(LEDGER_VERSION + 1)
    assert stored_events(db_url) == 1


def stored_events(url: str) -> int:
    """How many events are stored, counted past the version check (the test's own look)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
        conn.close()
    else:
        with psycopg.connect(os.environ[POSTGRES_ENV].split("?")[0]) as conn:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.ledger_events").format(
                    sql.Identifier(schema_of(url))
                )
            ).fetchone()
    assert row is not None
    return int(row[0])


# ---------------------------------------------------------------------------- PostgreSQL


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


@contextmanager
def password_refusing_server() -> Iterator[int]:
    """A port on 127.0.0.1 that speaks the PostgreSQL protocol far enough to ask for a
    password and refuse it, as a server with password authentication does.

    The server here trusts every local connection (pg_hba.conf), so a real refusal cannot
    be produced against it.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    stop = threading.Event()

    def refuse(conn: socket.socket) -> None:
        with conn:
            while True:  # SSL and GSS encryption requests: 'N', then the startup packet
                length, code = struct.unpack("!ii", _read_exactly(conn, 8))
                if length == 8 and code in (80877103, 80877104):
                    conn.sendall(b"N")
                    continue
                body = _read_exactly(conn, length - 8)
                break
            fields = body.split(b"\0")
            user = fields[fields.index(b"user") + 1].decode() if b"user" in fields else "?"
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # a cleartext password, please
            kind = _read_exactly(conn, 1)
            (size,) = struct.unpack("!i", _read_exactly(conn, 4))
            _read_exactly(conn, size - 4)
            assert kind == b"p"
            message = f'password authentication failed for user "{user}"'.encode()
            payload = b"SFATAL\0VFATAL\0C28P01\0M" + message + b"\0\0"
            conn.sendall(b"E" + struct.pack("!i", len(payload) + 4) + payload)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with suppress(ConnectionError, OSError, struct.error):
                refuse(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.mark.parametrize("args", [QUESTION, ("init",)], ids=" ".join)
def test_a_refused_port_is_one_error_line(args: tuple[str, ...]) -> None:
    port = closed_port()
    url = f"postgresql://alice:s3cret@127.0.0.1:{port}/ledger"
    result = Sanctions(url, init=False)(*args)
    assert error_line(result) == (
        f"Error: cannot open the ledger at postgresql://alice:***@127.0.0.1:{port}/ledger: "
        "Connection refused; Is the server running on that host and accepting TCP/IP "
        "connections?"
    )
    assert result.exit_code == 1


def test_a_silent_server_answers_within_five_seconds() -> None:
    with silent_server() as port:
        url = f"postgresql://alice:s3cret@127.0.0.1:{port}/ledger"
        started = time.monotonic()
        result = Sanctions(url, init=False)(*QUESTION, env={"SANCTIONS_CONNECT_TIMEOUT": None})
        elapsed = time.monotonic() - started
    assert error_line(result) == (
        f"Error: cannot reach the database at postgresql://alice:***@127.0.0.1:{port}/ledger: "
        "no answer within 5 s ($SANCTIONS_CONNECT_TIMEOUT sets the wait)"
    )
    assert result.exit_code == 1
    assert 4.5 < elapsed < 6.5


def test_sanctions_connect_timeout_changes_the_wait() -> None:
    with silent_server() as port:
        url = f"postgresql://127.0.0.1:{port}/ledger"
        started = time.monotonic()
        result = Sanctions(url, init=False)("init", env={"SANCTIONS_CONNECT_TIMEOUT": "2"})
        elapsed = time.monotonic() - started
    assert error_line(result) == (
        f"Error: cannot reach the database at {url}: no answer within 2 s "
        "($SANCTIONS_CONNECT_TIMEOUT sets the wait)"
    )
    assert 1.5 < elapsed < 4


def test_a_refused_password_is_one_error_line_without_the_password() -> None:
    with password_refusing_server() as port:
        url = f"postgresql://alice:pa%40ss@127.0.0.1:{port}/ledger?schema=books"
        result = Sanctions(url, init=False)(*QUESTION)
    line = error_line(result)
    assert line == (
        f"Error: cannot open the ledger at postgresql://alice:***@127.0.0.1:{port}/ledger"
        '?schema=books: password authentication failed for user "alice"'
    )
    assert "pa%40ss" not in result.output and "pa@ss" not in result.output
    assert result.exit_code == 1


@pytest.mark.postgres
def test_a_database_that_does_not_exist_is_one_error_line(postgres_url: str) -> None:
    base = os.environ[POSTGRES_ENV].split("?")[0].rsplit("/", 1)[0]
    url = f"{base}/no_such_database_w13?schema=x"
    for args in (QUESTION, ("init",)):
        result = Sanctions(url, init=False)(*args)
        assert error_line(result) == (
            f'Error: cannot open the ledger at {url}: database "no_such_database_w13" does '
            "not exist"
        )
        assert result.exit_code == 1


def test_a_postgresql_url_without_a_database_is_refused() -> None:
    url = "postgresql://alice:s3cret@127.0.0.1:5432"
    result = Sanctions(url, init=False)("init")
    assert error_line(result) == (
        "Error: bad database URL 'postgresql://alice:***@127.0.0.1:5432': name the "
        "database, e.g. postgresql://USER@HOST:PORT/DB"
    )
    assert result.exit_code == 1


@pytest.mark.postgres
def test_a_role_that_does_not_exist_is_one_error_line(postgres_url: str) -> None:
    url = postgres_url.replace("postgres@", "nobody_w13_no_such_role@", 1)
    result = Sanctions(url, init=False)(*QUESTION)
    assert error_line(result) == (
        f'Error: cannot open the ledger at {url}: role "nobody_w13_no_such_role" does not exist'
    )
    assert result.exit_code == 1


def test_the_url_in_an_error_never_shows_the_password(tmp_path: Path) -> None:
    port = closed_port()
    for url in (
        f"postgresql://bob:hunter2@127.0.0.1:{port}/db",
        f"postgres://bob:hunter2@127.0.0.1:{port}/db?schema=s",
        f"postgresql+psycopg://bob:hunter2@127.0.0.1:{port}/db",
        "mysql://bob:hunter2@127.0.0.1/db",
        f"postgresql://bob:hunter2@127.0.0.1:{port}/db?sslmode=require",
    ):
        result = Sanctions(url, init=False)("log")
        line = error_line(result)
        assert "hunter2" not in result.output, line
        assert "bob:***@" in line, line
        assert result.exit_code == 1
