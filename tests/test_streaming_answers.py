"""Every answer of rows streams (issue 19): history, diff, announcements and rulings print
their first row before their last row is read, in every format, through the CLI on a real
ledger; piped they are plain lines, on an 80-column terminal they fit."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator
from itertools import cycle, islice
from typing import Any

import pytest
from support import EXAMPLE, Sanctions
from test_terminal import split_measures

from cli.main import cli
from cli.terminal import cells
from projections import streams

BOX = set("─│┃━┏┓┗┛┡┩┣┫╇╈┼┬┴├┤┌┐└┘╭╮╰╯═║")
TERMINAL = {"SANCTIONS_TERMINAL": "1", "NO_COLOR": "1", "SANCTIONS_PAGER": ""}
PIPE = {"SANCTIONS_TERMINAL": "0"}

# Each command, and the projections generator (in ``projections.streams``) it reads from.
COMMANDS = {
    "history": (("history", "igor-krasnov"), "iter_history"),
    "diff": (("diff", "2000-01-01", "2030-01-01"), "iter_diff"),
    "announcements": (("announcements",), "iter_facts"),
    "rulings": (("rulings",), "iter_facts"),
}
ROWS = 300
"""Rows each answer is made up to: more than the fitted table lays itself out from."""


@pytest.fixture
def example(sanctions: Sanctions) -> Sanctions:
    sanctions.ok("import", str(EXAMPLE))
    return sanctions


def watched(real: Callable[..., Iterator[Any]], seen: list[str], out: io.StringIO) -> Any:
    """The projections generator, its real rows cycled up to ``ROWS``; what was printed when
    the last row was asked for is kept in ``seen``."""

    def rows(*args: Any, **kwargs: Any) -> Iterator[Any]:
        got = list(real(*args, **kwargs))
        assert got, "the example answers with some rows"
        for i, row in enumerate(islice(cycle(got), ROWS)):
            if i == ROWS - 1:
                seen.append(out.getvalue())
            yield row

    return rows


def first_row(whole: str, fmt: str, env: dict[str, str]) -> str:
    """The text of the answer's first row in its whole (unpadded) output."""
    if fmt == "json":
        return whole[: whole.index("\n  }") + 4]
    lines = whole.splitlines()
    if fmt == "table" and env.get("SANCTIONS_TERMINAL") == "1":
        return lines[1][:40]  # before any cut (whose ellipsis depends on the encoding)
    return lines[0] if fmt == "jsonl" else lines[1]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    ("fmt", "env"),
    [
        ("table", PIPE),
        ("table", {**TERMINAL, "COLUMNS": "120"}),
        ("csv", PIPE),
        ("json", PIPE),
        ("jsonl", PIPE),
    ],
)
def test_the_first_row_is_printed_before_the_last_row_is_read(
    example: Sanctions,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    fmt: str,
    env: dict[str, str],
) -> None:
    args, generator = COMMANDS[command]
    whole = example.ok(*args, "--format", fmt, env=env).stdout  # type: ignore[arg-type]
    out = io.StringIO()
    seen: list[str] = []
    monkeypatch.setattr(streams, generator, watched(getattr(streams, generator), seen, out))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", out)
    with pytest.raises(SystemExit) as ended:
        cli.main(["--db", example.url, *args, "--format", fmt], prog_name="sanctions")
    assert ended.value.code == 0
    [before_last] = seen
    assert first_row(whole, fmt, env) in before_last
    assert out.getvalue().startswith(before_last) and len(out.getvalue()) > len(before_last)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_piped_answers_are_plain_lines_one_a_row(example: Sanctions, command: str) -> None:
    args, _ = COMMANDS[command]
    out = example.ok(*args, env=PIPE).stdout
    rows = json.loads(example.ok(*args, "--format", "json").stdout)
    assert rows and not BOX & set(out) and "\x1b[" not in out
    lines = out.splitlines()
    assert len(lines) == len(rows) + 1
    assert all(line.count("\t") == lines[0].count("\t") for line in lines)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_80_column_terminal_gets_lines_that_fit_and_whole_measure_names(
    example: Sanctions, command: str
) -> None:
    args, _ = COMMANDS[command]
    out = example.ok(*args, env={**TERMINAL, "COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert len(lines) > 1 and max(cells(line) for line in lines) <= 80
    assert "\t" not in out
    assert split_measures(out) == []
