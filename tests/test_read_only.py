"""A ledger the user may only read answers every question while its projections are current.

When the projections lag the log, a reader cannot bring them up to date: the question is
refused in one line rather than answered from stale tables. Nothing a reader does writes to
the ledger or next to it (an SQLite reader must not leave -wal or -shm files of its own:
owned by the reader, they would stop the owner from writing).

The tests run as root, and root ignores file permissions: the SQLite readers are real
processes of the user ``nobody`` (``setpriv``); the PostgreSQL reader is a role granted
SELECT only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url
from support import (
    EXAMPLE,
    FIXTURES,
    POSTGRES_ENV,
    Sanctions,
    as_nobody,
    sqlite_url_in,
)

from ledger import Ledger
from projections import Views

QUESTIONS = [
    ("list", "--authority", "EU", "--at", "2021-03-03"),
    ("show", "igor-krasnov", "--at", "2021-03-03"),
    ("history", "igor-krasnov"),
    ("diff", "2021-03-01", "2021-03-31", "--authority", "EU"),
    ("search", "Aleksandr Kalashnikov"),
    ("log", "--from", "38"),
    ("head",),
    ("export",),
    ("verify",),
]

needs_another_user = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="a read-only SQLite ledger needs a real non-root process: root and setpriv",
)


def the_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "", done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file in the folder: owner and bytes."""
    return {p.name: (p.stat().st_uid, p.read_bytes()) for p in sorted(folder.iterdir())}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder under /tmp that another user may enter (pytest's own folders are private)."""
    folder = Path(tempfile.mkdtemp(prefix="sanctions-read-only-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def example_ledger(folder: Path) -> Sanctions:
    """The example history in a ledger owned by root, readable by all, writable by root."""
    ledger_dir = folder / "ledger"
    ledger_dir.mkdir()
    sanctions = Sanctions(sqlite_url_in(ledger_dir))
    sanctions.ok("import", str(EXAMPLE))
    ledger_dir.chmod(0o755)
    for f in ledger_dir.iterdir():
        f.chmod(0o644)
    return sanctions


# ---------------------------------------------------------------------------- SQLite


@needs_another_user
@pytest.mark.parametrize("folder_mode", [0o755, 0o777], ids=["read-only folder", "open folder"])
def test_a_ledger_the_user_may_only_read_answers_every_question(
    shared_dir: Path, folder_mode: int
) -> None:
    owner = example_ledger(shared_dir)
    folder = shared_dir / "ledger"
    answers = {q: owner.ok(*q).stdout for q in QUESTIONS}
    folder.chmod(folder_mode)
    before = snapshot(folder)
    for question in QUESTIONS:
        done = as_nobody(owner.url, *question)
        assert done.returncode == 0, (question, done.stderr)
        if question[0] == "verify":
            assert done.stdout.startswith("OK: 41 events, hash chain verified")
        else:
            assert done.stdout == answers[question], question
    assert snapshot(folder) == before  # no -wal or -shm of nobody's, nothing changed
    owner.ok("subject", "add", "Leonid Volkov")  # and the owner can still write


@needs_another_user
def test_an_append_to_a_read_only_ledger_is_refused_and_writes_nothing(shared_dir: Path) -> None:
    owner = example_ledger(shared_dir)
    folder = shared_dir / "ledger"
    before = snapshot(folder)
    path = folder / "ledger.db"
    for args in (("subject", "add", "Leonid Volkov"), ("import", str(EXAMPLE))):
        done = as_nobody(owner.url, *args)
        assert the_error(done) == (
            f"Error: the ledger at {owner.url} is read-only here (no write permission on "
            f"{path}); nothing was written"
        )
        assert done.returncode == 1
    done = as_nobody(owner.url, "rebuild")
    assert the_error(done) == (
        f"Error: cannot rebuild the projections: this ledger is read-only here (no write "
        f"permission on {path}); run 'sanctions rebuild' with write access"
    )
    assert snapshot(folder) == before


@needs_another_user
def test_projections_behind_the_log_of_a_read_only_ledger_are_an_error_not_an_answer(
    shared_dir: Path,
) -> None:
    owner = example_ledger(shared_dir)
    question = QUESTIONS[0]
    answer = owner.ok(*question).stdout
    ledger = Ledger(owner.url, user="owner")  # appends without the projections' catch-up
    try:
        for name in ("Ivan Zhdanov", "Yulia Navalnaya", "Leonid Volkov"):
            ledger.register_subject(name)
    finally:
        ledger.close()
    folder = shared_dir / "ledger"
    before = snapshot(folder)
    for args in (question, ("show", "igor-krasnov"), ("verify",)):
        done = as_nobody(owner.url, *args)
        assert the_error(done) == (
            "Error: the projections are 3 events behind the log and this ledger is "
            f"read-only here (no write permission on {folder / 'ledger.db'}); 'sanctions "
            "rebuild' with write access brings them up to date"
        )
        assert done.returncode == 1
    assert snapshot(folder) == before
    owner.ok("rebuild")  # with write access: up to date, and the reader answers again
    done = as_nobody(owner.url, *question)
    assert (done.returncode, done.stdout) == (0, answer)


@needs_another_user
def test_a_reader_sees_what_a_running_writer_holds_in_the_write_ahead_log(
    shared_dir: Path,
) -> None:
    owner = example_ledger(shared_dir)
    folder = shared_dir / "ledger"
    ledger = Ledger(owner.url, user="owner")
    views = Views(ledger)
    try:  # the writer's connections stay open: the new event is in ledger.db-wal only
        ledger.register_subject("Leonid Volkov")
        views.catch_up()
        assert (folder / "ledger.db-wal").exists()
        before = snapshot(folder)
        head = ledger.head()
        done = as_nobody(owner.url, "head")
        assert (done.returncode, done.stdout) == (0, f"{head[0]} {head[1]}\n"), done.stderr
        done = as_nobody(owner.url, "show", "leonid-volkov")
        assert done.returncode == 0, done.stderr
        assert "Leonid Volkov" in done.stdout
        assert snapshot(folder) == before
    finally:
        views.close()
        ledger.close()


@needs_another_user
def test_init_refuses_a_folder_it_may_not_write(shared_dir: Path) -> None:
    url = sqlite_url_in(shared_dir)
    done = as_nobody(url, "init")
    assert the_error(done) == (
        f"Error: cannot create a ledger at {url}: no write permission on the folder {shared_dir}"
    )
    assert done.returncode == 1
    assert list(shared_dir.iterdir()) == []


@needs_another_user
def test_a_read_only_ledger_written_before_init_exports_the_same_bytes(
    shared_dir: Path,
) -> None:
    folder = shared_dir / "old"
    folder.mkdir(mode=0o755)
    shutil.copyfile(FIXTURES / "ledger-written-before-issue-5.db", folder / "ledger.db")
    (folder / "ledger.db").chmod(0o644)
    url = sqlite_url_in(folder)
    before = snapshot(folder)
    done = as_nobody(url, "export")
    assert done.returncode == 0, done.stderr
    expected = (FIXTURES / "ledger-written-before-issue-5.export.jsonl").read_text("utf-8")
    assert done.stdout == expected
    # Its projections were dropped: a reader cannot make them, and says so.
    done = as_nobody(url, "list")
    assert the_error(done) == (
        "Error: the projections are missing or were made by another version and this ledger "
        f"is read-only here (no write permission on {folder / 'ledger.db'}); 'sanctions "
        "rebuild' with write access brings them up to date"
    )
    assert snapshot(folder) == before


def test_mode_ro_in_the_url_answers_and_writes_nothing(tmp_path: Path) -> None:
    owner = Sanctions(sqlite_url_in(tmp_path))
    owner.ok("import", str(EXAMPLE))
    answer = owner.ok(*QUESTIONS[0]).stdout
    reader = Sanctions(owner.url + "?mode=ro", init=False)
    assert reader.ok(*QUESTIONS[0]).stdout == answer
    before = owner.head()
    result = reader("subject", "add", "Leonid Volkov")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: the ledger at {reader.url} is read-only here (the URL asks for mode=ro); "
        "nothing was written\n",
    )
    assert owner.head() == before
    (tmp_path / "new").mkdir()
    result = Sanctions(sqlite_url_in(tmp_path / "new") + "?mode=ro", init=False)("init")
    assert result.exit_code == 1
    assert result.stderr.endswith(": the URL asks for mode=ro\n")
    assert list((tmp_path / "new").iterdir()) == []


def test_a_read_only_ledger_lists_its_registered_authorities(tmp_path: Path) -> None:
    owner = Sanctions(sqlite_url_in(tmp_path))
    owner.ok("authority", "add", "UA", "--name", "Ukraine")
    before = owner.head()
    reader = Sanctions(owner.url + "?mode=ro", init=False)
    listed = reader.ok("authority", "list", "--format", "csv").stdout
    assert "UA,Ukraine,False\n" in listed
    assert owner.head() == before


# ---------------------------------------------------------------------------- PostgreSQL


@contextmanager
def select_only_role(url: str) -> Iterator[str]:
    """The URL of the same ledger for a new role that may only SELECT in its schema."""
    base = os.environ[POSTGRES_ENV].split("?")[0]
    schema = sql.Identifier(url.rsplit("schema=", 1)[1])
    role = f"reader_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema, sql.Identifier(role)
            )
        )
        # 'sanctions rebuild' makes the projection tables anew: they keep the grant so.
        conn.execute(
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                schema, sql.Identifier(role)
            )
        )
    try:
        yield make_url(url).set(username=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.postgres
def test_a_postgresql_role_with_select_only_answers_and_writes_nothing(
    postgres_url: str,
) -> None:
    owner = Sanctions(postgres_url, init=False)
    owner.ok("import", str(EXAMPLE))
    answers = {q: owner.ok(*q).stdout for q in QUESTIONS if q[0] != "verify"}
    with select_only_role(postgres_url) as url:
        reader = Sanctions(url, init=False)
        for question, answer in answers.items():
            assert reader.ok(*question).stdout == answer, question
        assert reader.ok("verify").stdout.startswith("OK: 41 events, hash chain verified")
        role = make_url(url).username
        schema = postgres_url.rsplit("schema=", 1)[1]
        result = reader("subject", "add", "Leonid Volkov")
        assert (result.exit_code, result.stderr) == (
            1,
            f"Error: the ledger at {url} is read-only here (the role {role} may not insert "
            f"into {schema}.ledger_events); nothing was written\n",
        )
        result = reader("init")
        assert result.stdout == (
            f"A ledger already exists at {url} (41 events); nothing was changed\n"
        )
        assert owner.head()[0] == 41


@pytest.mark.postgres
def test_projections_behind_the_log_for_a_select_only_role_are_an_error(
    postgres_url: str,
) -> None:
    owner = Sanctions(postgres_url, init=False)
    owner.ok("import", str(EXAMPLE))
    ledger = Ledger(postgres_url, user="owner")
    try:
        ledger.register_subject("Ivan Zhdanov")
        ledger.register_subject("Leonid Volkov")
    finally:
        ledger.close()
    with select_only_role(postgres_url) as url:
        role = make_url(url).username
        schema = postgres_url.rsplit("schema=", 1)[1]
        result = Sanctions(url, init=False)(*QUESTIONS[0])
        assert (result.exit_code, result.stdout, result.stderr) == (
            1,
            "",
            "Error: the projections are 2 events behind the log and this ledger is read-only "
            f"here (the role {role} may not insert into {schema}.ledger_events); 'sanctions "
            "rebuild' with write access brings them up to date\n",
        )
        owner.ok("rebuild")
        assert Sanctions(url, init=False).ok("show", "leonid-volkov").stdout.count("Leonid") >= 1


@pytest.mark.postgres
def test_a_read_only_postgresql_session_answers_and_refuses_appends(postgres_url: str) -> None:
    owner = Sanctions(postgres_url, init=False)
    owner.ok("import", str(EXAMPLE))
    answer = owner.ok(*QUESTIONS[0]).stdout
    # As on a standby: every transaction of the session is read-only.
    read_only = {"PGOPTIONS": "-c default_transaction_read_only=on"}
    assert owner.ok(*QUESTIONS[0], env=read_only).stdout == answer
    result = owner("subject", "add", "Leonid Volkov", env=read_only)
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: the ledger at {postgres_url} is read-only here (the server is read-only: a "
        "standby, or default_transaction_read_only); nothing was written\n",
    )
    assert owner.head()[0] == 41


@needs_another_user
def test_a_write_ahead_log_a_reader_cannot_open_is_a_clear_error(shared_dir: Path) -> None:
    owner = example_ledger(shared_dir)
    folder = shared_dir / "ledger"
    path = folder / "ledger.db"
    (folder / "ledger.db-wal").touch(mode=0o644)  # left without its -shm by a crashed writer
    before = snapshot(folder)
    done = as_nobody(owner.url, *QUESTIONS[0])
    assert the_error(done) == (
        f"Error: cannot open the ledger at {owner.url}: its write-ahead log {path}-wal has no "
        f"{path}-shm beside it, which this process may not create; open the ledger once with "
        "write access"
    )
    assert snapshot(folder) == before
    owner.ok(*QUESTIONS[0])  # the owner opens it, and all is well again
    assert as_nobody(owner.url, *QUESTIONS[0]).returncode == 0
