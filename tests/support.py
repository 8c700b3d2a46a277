"""Helpers shared by the tests: the ``sanctions`` command on one ledger, and store URLs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from cli.main import cli
from ledger import Ledger, RecordedEvent
from projections.integrity import view_rows

POSTGRES_ENV = "SANCTIONS_TEST_POSTGRES_URL"


def sqlite_url_in(directory: Path | str) -> str:
    return f"sqlite:///{Path(directory).resolve() / 'ledger.db'}"


def postgres_base() -> str:
    """The test server's URL; skips the test without the variable."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV}, e.g. postgresql://postgres@127.0.0.1:5432/test"
        )
    return base


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A ledger URL in a schema of its own, dropped on exit; skips without the variable."""
    base = postgres_base()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        with psycopg.connect(base.split("?")[0], autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def postgres_database(template: str = "template0") -> Iterator[str]:
    """The URL of a database of its own on the test server (without a schema), a copy of
    ``template`` (a database name), dropped on exit. A copy of a database that holds a
    ledger is the ledger as it was, made in a second where importing it again takes a
    minute."""
    base = postgres_base().split("?")[0]
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    try:
        yield urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def database_of(url: str) -> str:
    """The database a PostgreSQL URL names."""
    return urlsplit(url).path.lstrip("/")


def init_ledger(url: str) -> str:
    """An empty ledger at ``url`` as ``sanctions init`` makes it (unless there is one).

    A new SQLite file is a copy of one that ``sanctions init`` made in this process (the
    same bytes, in a twentieth of the time: most tests begin with one).
    """
    path = Path(url.removeprefix("sqlite:///"))
    if (
        url.startswith("sqlite:///")
        and "?" not in url
        and path.parent.is_dir()
        and not path.exists()
    ):
        shutil.copyfile(_empty_sqlite_ledger(), path)
        return url
    result = CliRunner().invoke(cli, ["--db", url, "init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return url


_EMPTY: list[tempfile.TemporaryDirectory[str]] = []


def _empty_sqlite_ledger() -> Path:
    if not _EMPTY:
        _EMPTY.append(tempfile.TemporaryDirectory(prefix="sanctions-empty-"))
        folder = Path(_EMPTY[0].name)
        result = CliRunner().invoke(cli, ["--db", sqlite_url_in(folder), "init"])
        assert result.exit_code == 0, result.output
        assert [f.name for f in folder.iterdir()] == ["ledger.db"]  # nothing beside it
    return Path(_EMPTY[0].name) / "ledger.db"


class Sanctions:
    """The ``sanctions`` command on one ledger, run through click's CliRunner.

    The ledger is created first (``sanctions init``), unless ``init=False``: a test of what
    happens where there is no ledger.
    """

    def __init__(self, url: str, *, init: bool = True) -> None:
        self.url = url
        self.runner = CliRunner()
        if init:
            init_ledger(url)

    def __call__(
        self,
        *args: str,
        by: str | None = "tester",
        input: str | bytes | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        head = ["--db", self.url] + (["--by", by] if by is not None else [])
        return self.runner.invoke(cli, [*head, *args], input=input, env=env, catch_exceptions=False)

    def ok(self, *args: str, **kwargs: object) -> Result:
        result = self(*args, **kwargs)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.output
        return result

    def head(self) -> tuple[int, str]:
        ledger = Ledger(self.url)
        try:
            return ledger.head()
        finally:
            ledger.close()

    def events(self) -> list[RecordedEvent]:
        ledger = Ledger(self.url)
        try:
            return list(ledger.read_log())
        finally:
            ledger.close()

    def refused(self, args: Sequence[str], error: str, code: int = 1) -> None:
        """The command fails with exactly this error line and exit code, and writes nothing."""
        before = self.head()
        result = self(*args)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert errors == [error], result.output
        assert result.exit_code == code, result.output
        assert result.stdout == "", result.stdout
        assert self.head() == before


@contextmanager
def another_ledger_like(url: str, directory: Path) -> Iterator[str]:
    """A second, empty ledger in the same kind of store as ``url``."""
    if url.startswith("sqlite"):
        directory.mkdir(parents=True, exist_ok=True)
        yield init_ledger(sqlite_url_in(directory))
    else:
        with postgres_schema() as other:
            yield init_ledger(other)


EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "navalny.jsonl"
BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def bench_script(name: str) -> ModuleType:
    """bench/NAME.py as a module (the benchmarks are scripts, not a package)."""
    path = BENCH.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(f"bench_{name}", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def load_bench() -> ModuleType:
    """bench/run.py as a module."""
    return bench_script("run")


dump_views = view_rows
"""Every projection table's rows, order-free: for comparing two ways of building them."""


NOBODY = 65534
SANCTIONS = Path(sys.executable).with_name("sanctions")


def as_nobody(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``sanctions`` run by the user nobody, who may not write what root made."""
    return subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            str(SANCTIONS),
            "--db",
            url,
            "--by",
            "reader",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "LANG": "C.UTF-8"},
    )
