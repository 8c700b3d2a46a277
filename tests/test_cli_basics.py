"""The command itself: help with an example everywhere, version, and who records."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from support import Sanctions

from cli.main import cli
from ledger import __version__


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the root loads its commands on demand
        command = group.get_command(ctx, name)
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


WRITE_COMMANDS = [
    ("subject",),
    ("subject", "add"),
    ("subject", "amend"),
    ("subject", "list"),
    ("authority",),
    ("authority", "list"),
    ("authority", "add"),
    ("designate",),
    ("amend",),
    ("delist",),
    ("announce",),
    ("ruling",),
    ("retract",),
    ("import",),
    ("export",),
    ("log",),
]


def test_every_write_side_command_is_registered() -> None:
    assert set(WRITE_COMMANDS) <= set(command_paths(cli))


@pytest.mark.parametrize("path", command_paths(cli), ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="sanctions")
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"Usage: sanctions {' '.join(path)}" in result.stdout


def test_root_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="sanctions")
    assert result.exit_code == 0
    for (name,) in [p for p in WRITE_COMMANDS if len(p) == 1]:
        assert f"  {name} " in result.stdout


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], prog_name="sanctions")
    assert (result.exit_code, result.stdout) == (0, f"sanctions, version {__version__}\n")


def test_the_by_option_sets_who_recorded(sqlite_url: str) -> None:
    sanctions = Sanctions(sqlite_url)
    sanctions.ok("subject", "add", "Igor Krasnov", by="alice")
    assert sanctions.events()[-1].recorded_by == "alice"


def test_sanctions_user_sets_who_recorded_when_by_is_absent(sqlite_url: str) -> None:
    sanctions = Sanctions(sqlite_url)
    sanctions.ok("subject", "add", "Igor Krasnov", by=None, env={"SANCTIONS_USER": "bob"})
    sanctions.ok("subject", "add", "Viktor Zolotov", by="carol", env={"SANCTIONS_USER": "bob"})
    assert [e.recorded_by for e in sanctions.events()] == ["bob", "carol"]


def test_without_by_or_sanctions_user_the_login_name_records(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "login-name")
    sanctions = Sanctions(sqlite_url)
    sanctions.ok("subject", "add", "Igor Krasnov", by=None, env={"SANCTIONS_USER": None})
    assert sanctions.events()[-1].recorded_by == "login-name"


def test_the_database_comes_from_sanctions_db(sqlite_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["subject", "add", "Igor Krasnov"], env={"SANCTIONS_DB": sqlite_url}
    )
    assert result.exit_code == 0, result.output
    assert Sanctions(sqlite_url).head()[0] == 1


def test_a_bad_database_url_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["--db", "mysql://x", "log"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: bad database URL 'mysql://x': use sqlite:///FILE or "
        "postgresql://USER@HOST:PORT/DB\n",
    )
