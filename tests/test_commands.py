"""The command model: each kind of change defined once (ledger/commands.py), and what is
derived from it or checked against it: the JSON Lines schema, the README's field table, the
CLI options of the append commands, one handler per command; and the write side's shape."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import click
import pytest
from support import Sanctions

from cli.main import cli
from cli.types import DATE
from ledger import Ledger
from ledger.commands import (
    COMMANDS,
    SCHEMAS,
    AmendDesignation,
    AmendSubject,
    Announce,
    Command,
    Delist,
    Designate,
    Link,
    RecordRuling,
    RegisterAuthority,
    RegisterSubject,
    Retract,
    Unlink,
    fields_of,
    markdown_table,
)
from ledger.errors import AlreadyDesignated
from ledger.handlers import HANDLERS
from ledger.records import coerce_record

ROOT = Path(__file__).resolve().parents[1]

APPEND_COMMANDS: dict[tuple[str, ...], type[Command]] = {
    ("subject", "add"): RegisterSubject,
    ("subject", "amend"): AmendSubject,
    ("authority", "add"): RegisterAuthority,
    ("designate",): Designate,
    ("amend",): AmendDesignation,
    ("delist",): Delist,
    ("announce",): Announce,
    ("ruling",): RecordRuling,
    ("retract",): Retract,
    ("link",): Link,
    ("unlink",): Unlink,
}

"""Options of the command line alone (what it prints), not fields of the command."""


def click_command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    ctx = click.Context(cli)
    for name in path:
        assert isinstance(command, click.Group)
        # get_command, not .commands: the root group loads its sub-commands on first use, so
        # .commands holds only those some earlier test happened to load.
        found = command.get_command(ctx, name)
        assert found is not None, f"no command {' '.join(path)}"
        command = found
    return command


def test_the_readme_field_table_is_the_one_the_commands_generate() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_json_lines_schema_is_the_commands_fields() -> None:
    assert list(SCHEMAS) == list(COMMANDS)
    assert SCHEMAS["subject_registered"]["id"] == ("opt_text", False)
    assert SCHEMAS["designated"]["effective"] == ("date", True)
    assert SCHEMAS["announced"]["authorities"] == ("texts", True)


@pytest.mark.parametrize("path", list(APPEND_COMMANDS), ids=" ".join)
def test_each_append_command_takes_exactly_the_fields_of_its_command(
    path: tuple[str, ...],
) -> None:
    command = APPEND_COMMANDS[path]
    # Options that change only what is printed (--quiet) are no field of the command.
    params = {
        p.name: p for p in click_command(path).params if p.name is not None and p.expose_value
    }
    fields = {name: (kind, required) for name, _, kind, required in fields_of(command)}
    assert set(params) == set(fields)
    for name, (kind, required) in fields.items():
        param = params[name]
        is_flag = isinstance(param, click.Option) and param.is_flag
        many = param.multiple or (isinstance(param, click.Argument) and param.nargs > 1)
        assert many == (kind in ("texts", "dates", "opt_dates")), name
        assert is_flag == (kind == "bool"), name
        if kind in ("date", "opt_date", "dates", "opt_dates"):
            assert param.type is DATE, name
        if kind == "int":
            assert isinstance(param.type, click.types.IntParamType), name
        if required and kind != "texts":  # a list is refused empty by the handler
            assert param.required, name


def test_every_command_has_one_handler() -> None:
    assert set(HANDLERS) == set(COMMANDS.values())


def test_a_json_line_becomes_the_command_it_stands_for() -> None:
    line = {
        "type": "designated",
        "data": {
            "subject": "igor-krasnov",
            "authority": "EU",
            "regime": "EU Global Human Rights Sanctions Regime",
            "effective": "2021-03-02",
            "measures": ["asset-freeze"],
        },
    }
    record = coerce_record(1, line)
    from_line = COMMANDS[record.type].from_data(record.data)
    assert from_line == Designate(
        subject="igor-krasnov",
        authority="EU",
        regime="EU Global Human Rights Sanctions Regime",
        effective=date(2021, 3, 2),
        measures=["asset-freeze"],
        sources=[],
    )


def test_commands_run_as_one_unit_of_work_all_or_nothing(sanctions: Sanctions) -> None:
    ledger = Ledger(sanctions.url, user="tester")
    try:
        register = RegisterSubject(name="Igor Krasnov")
        designate = Designate(
            subject="igor-krasnov", authority="EU", regime="R", effective=date(2021, 3, 2)
        )
        twice = Designate(
            subject="igor-krasnov", authority="EU", regime="R", effective=date(2021, 4, 1)
        )
        with pytest.raises(AlreadyDesignated, match="is already designated on 2021-04-01"):
            ledger.execute(register, designate, twice)
        assert ledger.head()[0] == 0  # the first two were not written either
        receipts = ledger.execute(register, designate)
        assert [r.position for r in receipts] == [1, 2]
        assert [r.type for r in receipts] == ["subject_registered", "designated"]
    finally:
        ledger.close()


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_no_function_of_the_ledger_takes_more_than_seven_parameters() -> None:
    """Optional keyword-only parameters aside."""
    too_long = []
    for path in _sources("ledger"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                required_kw = [d for d in a.kw_defaults if d is None]
                count = len(a.posonlyargs) + len(a.args) + len(required_kw)
                if count > 7:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({count})")
    assert too_long == []


def test_no_class_over_400_lines_and_no_module_over_700_in_ledger_projections_and_cli() -> None:
    large = []
    for path in [*_sources("ledger"), *_sources("projections"), *_sources("cli")]:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if len(text.splitlines()) > 700:
            large.append(f"{name} ({len(text.splitlines())} lines)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 400:
                    large.append(f"{name}:{node.lineno} class {node.name} ({size} lines)")
    assert large == []


def test_the_list_adapters_use_only_public_names_of_the_ledger() -> None:
    """And never the application: it imports them, not the other way round."""
    found = []
    for path in _sources("ledger/adapters"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ledger"):
                if node.module == "ledger.application" or node.module == "ledger":
                    found.append(f"{where} imports {node.module}")
                found += [f"{where} imports {a.name}" for a in node.names if a.name.startswith("_")]
            private = isinstance(node, ast.Attribute) and node.attr.startswith("_")
            if private and not node.attr.startswith("__"):
                value = node.value
                outside = {"self", "cls"} | {  # their own, or another library's (hashlib._Hash)
                    a.asname or a.name
                    for n in ast.walk(tree)
                    if isinstance(n, ast.Import)
                    for a in n.names
                    if not a.name.startswith("ledger")
                }
                if not (isinstance(value, ast.Name) and value.id in outside):
                    found.append(f"{where} uses .{node.attr}")
    assert found == []
