"""Hostile places: generated ``--db`` URLs and generated file permissions.

Every generated URL that does not name the ledger is refused in one ``Error:`` line, exit
status 1 or 2, with no traceback, and creates nothing. Every generated combination of file
and folder permissions, seen by a real non-root process, either answers exactly as the owner
would or is refused in one line; a write happens only where that user may write, and a
refusal leaves the ledger byte for byte as it was.

Only the loopback is ever contacted: generated PostgreSQL URLs name 127.0.0.1, localhost or
::1, on a closed port or the local test server. Generated grants to a PostgreSQL role either
answer exactly, or are refused in one line; an append the role may make but whose
projections it may not write says both what it recorded and the error.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from contextlib import chdir
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from sqlalchemy.engine import make_url
from support import (
    EXAMPLE,
    NOBODY,
    Sanctions,
    as_nobody,
    postgres_schema,
    sqlite_url_in,
)

from cli.main import cli
from ledger.store import Database
from projections.tables import VIEW_TABLES as PROJECTION_TABLES

QUESTION = ("list", "--authority", "EU", "--at", "2021-03-03")
READS = [QUESTION, ("log", "--from", "40"), ("head",)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLOSED = closed_port()

_TEMPLATE: dict[str, Path] = {}


def template() -> Path:
    """One SQLite ledger with the example history, made once; copied for every attempt."""
    if "ledger" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="sanctions-hostile-places-"))
        Sanctions(sqlite_url_in(folder)).ok("import", str(EXAMPLE))
        with sqlite3.connect(folder / "ledger.db") as conn:  # the whole ledger in one file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        for extra in folder.glob("ledger.db-*"):
            extra.unlink()
        _TEMPLATE["ledger"] = folder / "ledger.db"
    return _TEMPLATE["ledger"]


@pytest.fixture(scope="module", autouse=True)
def _remove_template() -> Iterator[None]:
    yield
    if "ledger" in _TEMPLATE:
        shutil.rmtree(_TEMPLATE.pop("ledger").parent, ignore_errors=True)


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


def one_error(result: Result) -> str:
    assert isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output
    assert result.exit_code in (1, 2), result.output
    assert result.stdout == "", result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if result.exit_code == 1:
        assert result.stderr == errors[0] + "\n", result.stderr
    return errors[0]


# ---------------------------------------------------------------------------- URLs

_path_parts = st.sampled_from(
    [
        "a",
        "b.db",
        "/",
        "//",
        ".",
        "..",
        "?",
        "#",
        "%",
        "%2F",
        "%00",
        "%3F",
        "&",
        "=",
        ":",
        "@",
        " ",
        "é",
        "Ω",
        "~",
        "\\",
        "mode=ro",
        "mode=rw",
        "mode=memory",
        ":memory:",
        "sanctions.db",
        "ledger",
        "\t",
        "\n",
        "\x00",
        "\x7f",
        "'",
        '"',
        ";",
    ]
)
paths = st.lists(_path_parts, max_size=8).map("".join)

sqlite_urls = st.builds(
    lambda scheme, sep, path: f"{scheme}{sep}{path}",
    st.sampled_from(["sqlite", "sqlite+pysqlite", "SQLITE", "sqlite3", "file"]),
    st.sampled_from(["://", ":///", ":////", ":/", ":", "///", "://localhost/"]),
    paths,
)

plain_sqlite_urls = st.builds(
    lambda path, query: f"sqlite:///{path}{query}",
    st.lists(
        st.sampled_from(
            [
                "a",
                "b.db",
                "/",
                "sanctions.db",
                "ledger",
                "..",
                ".",
                "%3F",
                " ",
                "é",
                "%2F",
                "sanctions.db/",
                "./",
            ]
        ),
        max_size=4,
    ).map("".join),
    st.sampled_from(["", "", "?mode=ro", "?mode=rw", "?x=1", "?"]),
)

postgres_urls = st.builds(
    lambda scheme, auth, host, port, db, query: f"{scheme}://{auth}{host}{port}/{db}{query}",
    st.sampled_from(["postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg"]),
    st.sampled_from(["", "u@", "u:p@", ":@", "@", "u:p%40q@", "a:b:c@", "%00@", "ü:ß@"]),
    st.sampled_from(["127.0.0.1", "localhost", "", "[::1]"]),
    st.sampled_from(["", f":{CLOSED}", ":0", ":99999", ":abc", ":-1", ":5432", ":"]),
    paths,
    st.sampled_from(
        [
            "",
            "?schema=",
            "?schema=Bad",
            "?schema=a&schema=b",
            "?sslmode=require",
            "?schema=x;drop",
            "?%00",
            "?schema=" + "x" * 70,
            "?schema=ok_1",
        ]
    ),
)

other_urls = st.text(max_size=30) | st.builds(
    lambda scheme, rest: f"{scheme}://{rest}",
    st.sampled_from(["mysql", "http", "oracle", "mssql", "", " sqlite", "sqlite "]),
    st.text(max_size=20),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    url=plain_sqlite_urls | sqlite_urls | postgres_urls | other_urls,
    command=st.sampled_from(READS),
)
@example(url="sqlite:///sanctions.db", command=QUESTION)
@example(url="sqlite:///./sanctions.db?mode=ro", command=QUESTION)
def test_a_generated_url_is_refused_in_one_line_and_creates_nothing(
    url: str, command: tuple[str, ...]
) -> None:
    ledger = template()
    with tempfile.TemporaryDirectory(prefix="sanctions-url-") as tmp, chdir(tmp):
        shutil.copyfile(ledger, Path(tmp) / "sanctions.db")  # a URL may name this one
        before = files_under(Path(tmp))
        result = CliRunner().invoke(
            cli, ["--db", url, *command], env={"SANCTIONS_CONNECT_TIMEOUT": "2"}
        )
        if result.exit_code == 0:  # only the ledger that is there
            assert Path(Database.parse(url).path).resolve() == Path(tmp, "sanctions.db").resolve()
            event("answered")
            return
        error = one_error(result)
        event(f"exit {result.exit_code}: {' '.join(error.split()[1:4])}")
        assert files_under(Path(tmp)) == before, error
        for secret in ("u:p@", "u:p%40q@", "a:b:c@", "ü:ß@"):
            if secret in url:
                assert secret not in error, error


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a\x00b.db",
        "sqlite:///x.db\n",
        "postgresql://u@127.0.0.1:-1/db",
        "postgresql://u@127.0.0.1:99999/db",
        "postgresql://u@127.0.0.1:abc/db",
        "sqlite:///x.db?mode=rw",
        "sqlite:///x.db?mode=memory",
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///",
        "postgresql://u@127.0.0.1/db?schema=a&schema=b",
        "postgresql://u:secret@127.0.0.1:CLOSED/db?sslmode=require",
        "",
        " ",
        "://",
        "sqlite:///a%00b.db",
        "sqlite:///a%0Ab.db",
        "sqlite:///",
        "sqlite:///.",
        "sqlite:///..",
        "sqlite:///sub/",
        "postgresql://u:secret@127.0.0.1:CLOSED/db",
    ],
)
@pytest.mark.parametrize("command", [QUESTION, ("init",)], ids=" ".join)
def test_a_hostile_url_is_one_error_line(
    tmp_path: Path, url: str, command: tuple[str, ...]
) -> None:
    # The closed port is put in here, not in the test's id: parallel workers must collect
    # the same ids.
    url = url.replace(":CLOSED/", f":{CLOSED}/")
    (tmp_path / "sub").mkdir()
    with chdir(tmp_path / "sub"):
        result = CliRunner().invoke(cli, ["--db", url, *command])
    error = one_error(result)
    assert "secret" not in result.output
    assert files_under(tmp_path) == {"sub": b"<dir>"}, error


# ---------------------------------------------------------------------------- permissions


def can(mode: int, owned: bool, bit: str) -> bool:
    """Whether the user nobody has this permission (r, w or x) under this mode."""
    shift = 6 if owned else 0  # nobody is not in root's group: the "other" bits
    return bool(mode >> shift & {"r": 4, "w": 2, "x": 1}[bit])


_ANSWERS: dict[tuple[str, ...], str] = {}


def owners_answer(question: tuple[str, ...]) -> str:
    if question not in _ANSWERS:
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copyfile(template(), Path(tmp) / "ledger.db")
            _ANSWERS[question] = Sanctions(sqlite_url_in(tmp), init=False).ok(*question).stdout
    return _ANSWERS[question]


# Not 0o006 (others may write, the owner may not): SQLite gives the -wal and -shm files it
# creates the database file's mode, so the process that creates them cannot open them; it
# ends in one "Error: database error: unable to open database file" line (see the note).
modes = st.sampled_from([0o000, 0o400, 0o444, 0o600, 0o644, 0o666, 0o200, 0o004])
folder_modes = st.sampled_from([0o700, 0o711, 0o755, 0o555, 0o777, 0o733, 0o311, 0o000])


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="permissions need a real non-root process: root and setpriv",
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    file_mode=modes,
    folder_mode=folder_modes,
    owned_by_nobody=st.booleans(),
    command=st.sampled_from([QUESTION, ("subject", "add", "Leonid Volkov")]),
)
def test_generated_permissions_answer_exactly_or_refuse_in_one_line(
    file_mode: int, folder_mode: int, owned_by_nobody: bool, command: tuple[str, ...]
) -> None:
    outer = Path(tempfile.mkdtemp(prefix="sanctions-perms-"))
    outer.chmod(0o755)
    folder = outer / "ledger"
    folder.mkdir()
    path = folder / "ledger.db"
    try:
        shutil.copyfile(template(), path)
        owner = NOBODY if owned_by_nobody else 0
        os.chown(path, owner, owner)
        os.chown(folder, owner, owner)
        path.chmod(file_mode)
        folder.chmod(folder_mode)
        before = files_under(folder)
        done = as_nobody(sqlite_url_in(folder), *command)
        assert "Traceback" not in done.stderr, done.stderr
        reachable = can(folder_mode, owned_by_nobody, "x")
        readable = reachable and can(file_mode, owned_by_nobody, "r")
        writable = (
            readable
            and can(file_mode, owned_by_nobody, "w")
            and can(folder_mode, owned_by_nobody, "w")
        )
        writes = command[0] == "subject"
        expected_ok = writable if writes else readable
        event(f"{'write' if writes else 'read'} {'ok' if expected_ok else 'refused'}")
        if expected_ok:
            assert done.returncode == 0, (oct(file_mode), oct(folder_mode), done.stderr)
            if writes:
                assert done.stdout.startswith("Recorded at position 42: registered subject")
            else:
                assert done.stdout == owners_answer(command)
                assert files_under(folder) == before
        else:
            assert done.returncode == 1, (oct(file_mode), oct(folder_mode), done.stdout)
            assert done.stdout == ""
            lines = done.stderr.splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
            assert files_under(folder) == before
            assert stat.S_IMODE(path.stat().st_mode) == file_mode
    finally:
        folder.chmod(0o755)
        shutil.rmtree(outer, ignore_errors=True)


# ---------------------------------------------------------------------------- PostgreSQL grants

VIEW_TABLES = [t.name for t in PROJECTION_TABLES]  # every projection table, links included


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    usage=st.booleans(),
    select_events=st.booleans(),
    insert_events=st.booleans(),
    select_views=st.booleans(),
    write_views=st.booleans(),
    command=st.sampled_from([QUESTION, ("subject", "add", "Leonid Volkov")]),
)
@example(True, True, True, True, True, ("subject", "add", "Leonid Volkov"))
@example(True, True, True, False, False, ("subject", "add", "Leonid Volkov"))
@example(True, True, True, True, False, ("subject", "add", "Leonid Volkov"))
@example(True, True, False, True, False, QUESTION)
def test_generated_postgresql_grants_answer_exactly_or_refuse_in_one_line(
    usage: bool,
    select_events: bool,
    insert_events: bool,
    select_views: bool,
    write_views: bool,
    command: tuple[str, ...],
) -> None:
    with postgres_schema() as url:
        owner = Sanctions(url)
        owner.ok("import", str(EXAMPLE))
        answer = owner.ok(*command).stdout if command == QUESTION else ""
        base = url.split("?")[0]
        schema = sql.Identifier(url.rsplit("schema=", 1)[1])
        role = f"grants_{os.getpid()}_{next(_ROLES)}"
        r = sql.Identifier(role)
        grants = []
        if usage:
            grants.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, r))
        events = [p for p, on in (("SELECT", select_events), ("INSERT", insert_events)) if on]
        if events:
            grants.append(
                sql.SQL("GRANT {} ON {}.ledger_events TO {}").format(
                    sql.SQL(", ".join(events)), schema, r
                )
            )
        views = [p for p, on in (("SELECT", select_views), ("INSERT, UPDATE", write_views)) if on]
        for table in VIEW_TABLES if views else []:
            grants.append(
                sql.SQL("GRANT {} ON {}.{} TO {}").format(
                    sql.SQL(", ".join(views)), schema, sql.Identifier(table), r
                )
            )
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(r))
            for grant in grants:
                conn.execute(grant)
        try:
            reader = Sanctions(
                make_url(url).set(username=role).render_as_string(hide_password=False),
                init=False,
            )
            before = owner.head()
            result = reader(*command)
            assert "Traceback" not in result.output
            reads = usage and select_events and select_views
            if command == QUESTION:
                event(f"read {'ok' if reads else 'refused'}")
                if reads:
                    assert (result.exit_code, result.stdout) == (0, answer), result.stderr
                else:
                    one_error(result)
                    assert result.exit_code == 1
            else:
                appends = usage and select_events and insert_events
                follows = select_views and write_views
                event(f"write {'ok' if appends and follows else 'refused'}")
                if appends and follows:
                    assert result.exit_code == 0, result.output
                    assert owner.head()[0] == before[0] + 1
                elif appends:  # written, but its projections cannot follow: both said
                    assert result.exit_code == 1
                    assert result.stdout.startswith("Recorded at position 42: ")
                    errors = result.stderr.splitlines()
                    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
                    assert owner.head()[0] == before[0] + 1
                else:
                    one_error(result)
                    assert result.exit_code == 1
                    assert owner.head() == before
        finally:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP OWNED BY {}").format(r))
                conn.execute(sql.SQL("DROP ROLE {}").format(r))


_ROLES = itertools.count()
