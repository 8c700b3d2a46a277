"""Start-up: a command loads only what it needs (issue 15), checked without timing.

Each test runs the real ``sanctions`` program in a child process and reads which modules
it had loaded when it exited; its wall time is measured by ``bench/startup.py``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from support import EXAMPLE, POSTGRES_ENV, Sanctions, postgres_schema

from cli.commands import COMMANDS
from cli.interrupts import PAUSE_ENV
from cli.main import cli

# Loads sys.modules' names into a file as the program exits, then runs it as `sanctions`.
PROGRAM = """
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
sys.argv[0] = "sanctions"
from cli.entry import main
main()
"""

DATABASE_ETC = {
    "sqlalchemy",
    "eventsourcing",
    "psycopg",
    "sqlite3",
    "ledger.application",
    "ledger.store",
    "projections.views",
}
ELSEWHERE = {
    "psycopg",  # PostgreSQL's driver, ~100 ms
    "psycopg_pool",
    "eventsourcing.postgres",
    "sqlalchemy.dialects.postgresql",
    "ledger.store_postgres",
    "fastapi",  # serve
    "uvicorn",
    "starlette",
    "jinja2",
    "web",
    "rapidfuzz",  # search and screen
    "anyascii",
    "projections.matching",
    "followthemoney",  # export-ftm
    "projections.ftm",
    "ledger.adapters",  # import-list
    "ledger.domain",  # writes, and the catch-up: not a query on current projections
    "ledger.handlers",
    "ledger.unit_of_work",
}


def loaded(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules ``sanctions ARGS`` had loaded when it exited (it must succeed)."""
    out = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(out), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(out.read_text().split())


def packages(modules: set[str], names: set[str]) -> set[str]:
    """Which of ``names`` (packages or modules) were loaded, submodules included."""
    return {n for n in names if any(m == n or m.startswith(f"{n}.") for m in modules)}


def test_help_loads_no_database_code_and_no_command(tmp_path: Path) -> None:
    modules = loaded(tmp_path, "--help")
    assert packages(modules, DATABASE_ETC | ELSEWHERE | {"rich"}) == set()
    assert not {m for m in modules if m.startswith("cli.") and m != "cli.commands"} - {
        "cli.entry",
        "cli.main",
        "cli.interrupts",
        "cli.context",
        "cli.terminal",  # --no-pager on the root group (click and the standard library)
    }


@pytest.fixture(scope="module")
def example_ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('startup') / 'ledger.db'}"
    Sanctions(url).ok("import", str(EXAMPLE))
    return url


def test_a_query_on_sqlite_loads_neither_the_postgresql_driver_nor_the_aggregates(
    tmp_path: Path, example_ledger: str
) -> None:
    modules = loaded(tmp_path, "--db", example_ledger, "history", "igor-krasnov")
    assert packages(modules, ELSEWHERE) == set()
    # The control: the query did read the ledger through the libraries it needs.
    assert packages(modules, DATABASE_ETC - {"psycopg"}) == DATABASE_ETC - {"psycopg"}


def test_show_on_current_sqlite_projections_loads_no_sqlalchemy(
    tmp_path: Path, example_ledger: str
) -> None:
    for extra in ([], ["--at", "2021-03-03", "--known-at", "20"], ["--format", "json"]):
        modules = loaded(tmp_path, "--db", example_ledger, "show", "igor-krasnov", *extra)
        assert packages(modules, ELSEWHERE | {"sqlalchemy", "projections.views"}) == set()
        # The control: it read the projections (the compiled statements, through sqlite3).
        assert {"sqlite3", "projections.fast", "projections.compiled"} <= modules, extra


def test_a_query_in_json_loads_no_rendering_library(tmp_path: Path, example_ledger: str) -> None:
    for args in (["show", "igor-krasnov"], ["list", "--authority", "EU", "--at", "2021-03-03"]):
        modules = loaded(tmp_path, "--db", example_ledger, *args, "--format", "json")
        assert packages(modules, ELSEWHERE | {"rich"}) == set(), args


def test_an_append_loads_the_aggregates_but_not_the_postgresql_driver(
    tmp_path: Path, example_ledger: str
) -> None:
    modules = loaded(tmp_path, "--db", example_ledger, "subject", "add", "Somebody New")
    writing = {"ledger.domain", "ledger.handlers", "ledger.unit_of_work"}
    # A new name goes into the search index, folded to its keys by the matcher.
    folding = {"projections.matching", "rapidfuzz", "anyascii"}
    assert packages(modules, ELSEWHERE) == writing | folding


@pytest.mark.postgres
def test_a_query_on_postgresql_loads_its_driver_and_not_the_web_or_the_matcher(
    tmp_path: Path,
) -> None:
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    with postgres_schema() as url:
        Sanctions(url).ok("import", str(EXAMPLE))
        modules = loaded(tmp_path, "--db", url, "show", "igor-krasnov")
    assert {"psycopg", "ledger.store_postgres"} <= modules
    others = {"fastapi", "uvicorn", "rapidfuzz", "anyascii", "ledger.domain"}
    assert packages(modules, others) == set()


def test_a_search_loads_the_matcher_and_not_the_web(tmp_path: Path, example_ledger: str) -> None:
    modules = loaded(tmp_path, "--db", example_ledger, "search", "Krasnov")
    assert {"rapidfuzz", "anyascii"} <= packages(modules, {"rapidfuzz", "anyascii"})
    others = {"fastapi", "uvicorn", "psycopg", "jinja2", "ledger.adapters", "ledger.domain"}
    assert packages(modules, others) == set()


def test_import_list_offers_exactly_the_lists_there_are_importers_for() -> None:
    from cli.lists import LIST_KINDS
    from ledger.adapters import PARSERS

    assert list(LIST_KINDS) == sorted(PARSERS)


# --------------------------------------------------------------------------- the table


def summary_of(command: click.Command) -> str:
    """The first paragraph of a command's help, on one line: what --help shortens."""
    return " ".join(inspect.cleandoc(command.help or "").partition("\n\n")[0].split())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_names_each_command_and_its_summary_word_for_word(name: str) -> None:
    where, summary = COMMANDS[name]
    module, _, attribute = where.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert summary == summary_of(command)


def test_every_command_defined_in_cli_is_in_the_table() -> None:
    tabled = {COMMANDS[name][0] for name in COMMANDS}
    defined = set()
    within_groups = set()
    for path in sorted(Path(importlib.import_module("cli").__file__ or "").parent.glob("*.py")):
        module = importlib.import_module(f"cli.{path.stem}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command) and value.callback is not None:
                if value.callback.__module__ != module.__name__ or value is cli:
                    continue  # imported from elsewhere, or the root itself
                defined.add(f"{module.__name__}:{attribute}")
                if isinstance(value, click.Group):
                    within_groups |= {id(c) for c in value.commands.values()}
    for item in list(defined):
        module, _, attribute = item.partition(":")
        if id(getattr(importlib.import_module(module), attribute)) in within_groups:
            defined.discard(item)
    assert defined == tabled


def test_root_help_is_what_click_would_print_with_every_command_loaded() -> None:
    lazy = CliRunner().invoke(cli, ["--help"], prog_name="sanctions", terminal_width=80)
    eager = click.Group(
        "cli",
        commands=[cli.get_command(click.Context(cli), name) for name in COMMANDS],  # type: ignore[misc]
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    expected = CliRunner().invoke(eager, ["--help"], prog_name="sanctions", terminal_width=80)
    assert lazy.exit_code == expected.exit_code == 0
    assert lazy.stdout == expected.stdout


def test_a_mistyped_command_is_still_told_the_nearest_one() -> None:
    result = CliRunner().invoke(cli, ["shwo"], prog_name="sanctions")
    assert result.exit_code == 2
    assert "Error: No such command 'shwo'. Did you mean 'show'?" in result.stderr


# --------------------------------------------------------------------------- interrupts


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_a_command_loads_says_nothing_was_written(
    example_ledger: str, signum: int
) -> None:
    # The handlers are installed before the libraries load, which now happens in the group.
    program = [sys.executable, "-c", "from cli.entry import main; main()"]
    proc = subprocess.Popen(
        [*program, "--db", example_ledger, "subject", "add", "Late Comer"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, PAUSE_ENV: "loading"},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("paused at loading"), line
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert (out, err.strip()) == ("", "Error: interrupted; nothing was written")
    listed = Sanctions(example_ledger, init=False).ok("subject", "list").stdout
    assert "late-comer" not in listed


def test_completing_a_command_name_loads_no_command(tmp_path: Path) -> None:
    env = {"_SANCTIONS_COMPLETE": "bash_complete", "COMP_WORDS": "sanctions sh", "COMP_CWORD": "1"}
    out = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert done.stdout.split() == ["plain,show"], done.stdout
    modules = set(out.read_text().split())
    assert packages(modules, DATABASE_ETC | {"cli.queries", "rich"}) == set()
