"""Rendering of answers, shared by every command: table, json, jsonl, csv, streamed.

Rows are printed as they are read (an iterable, never a list built first), in constant
memory. ``table`` is a table fitted to the window on a terminal (``cli.table``), and plain
tab-separated lines in a pipe: a header line, then one line a row (a tab, newline, carriage
return or backslash inside a value is written ``\\t``, ``\\n``, ``\\r``, ``\\\\``). json is
byte for byte what ``json.dumps`` of the whole list gives.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import click

from cli.terminal import NO_PAGER, Answer, bold, on_terminal, screen_text, size
from projections.serialize import cell, dumps

SAMPLE = 100
"""Rows a terminal table is laid out from; later rows wrap within those widths."""


def answer() -> Answer:
    """Where one command's answer goes (see ``cli.terminal.Answer``)."""
    ctx = click.get_current_context(silent=True)
    paging = not (ctx is not None and ctx.meta.get(NO_PAGER))
    return Answer(page=paging)


def render(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    empty: str | Callable[[], str] = "(nothing)",
    out: Answer | None = None,
) -> None:
    """Print rows as a table, a JSON array, CSV with a header, or JSON lines, as read.

    ``empty`` (or what it returns, asked only then) is said when there is no row.
    """
    if out is None:
        with answer() as out:
            render(rows, fmt, columns, title=title, empty=empty, out=out)
        return
    fmt = fmt.lower()
    it = iter(rows)
    first = next(it, None)
    cols = list(columns) if columns else (list(first) if first is not None else [])
    rest: Iterator[dict[str, Any]] = chain([first], it) if first is not None else iter(())
    if fmt == "json":
        _json(rest, out)
    elif fmt == "jsonl":
        for row in rest:
            out.line(dumps(row))
    elif fmt == "csv":
        _csv(rest, cols, out)
    else:
        if title:
            out.line(title)
        if first is None:
            out.line(empty if isinstance(empty, str) else empty())
        elif on_terminal():
            _fitted(rest, cols, out)
        else:
            _plain(rest, cols, out)


def render_object(obj: dict[str, Any], fmt: str) -> None:
    with answer() as out:
        out.line(dumps(obj, indent=2))


def _json(rows: Iterator[dict[str, Any]], out: Answer) -> None:
    # json.dumps(list, indent=2) of the whole, written one element at a time.
    first = True
    for row in rows:
        out.text(("[\n  " if first else ",\n  ") + dumps(row, indent=2).replace("\n", "\n  "))
        first = False
    out.text("[]\n" if first else "\n]\n")


def _csv(rows: Iterator[dict[str, Any]], cols: Sequence[str], out: Answer) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in chain([None], rows):
        if row is not None:
            writer.writerow([cell(row.get(c)) for c in cols])
        out.text(buf.getvalue())
        buf.seek(0)
        buf.truncate()


_PLAIN = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _plain(rows: Iterator[dict[str, Any]], cols: Sequence[str], out: Answer) -> None:
    out.line("\t".join(cols))
    for row in rows:
        out.line("\t".join(cell(row.get(c)).translate(_PLAIN) for c in cols))


def _fitted(rows: Iterator[dict[str, Any]], cols: Sequence[str], out: Answer) -> None:
    from cli.table import layout, row_lines

    def values(row: dict[str, Any]) -> list[str]:
        return [screen_text(cell(row.get(c))) for c in cols]

    # Laid out from the first rows read (within a moment), so the first line comes early.
    sample: list[list[str]] = []
    started = time.monotonic()
    for row in rows:
        sample.append(values(row))
        if len(sample) >= SAMPLE or time.monotonic() - started > 0.2:
            break
    width = size()[0]
    shown, left_out = layout(cols, sample, width)
    index = [cols.index(c.name) for c in shown]
    for line in row_lines(shown, [c.label for c in shown]):
        out.line(bold(line))
    for vals in chain(sample, (values(r) for r in rows)):
        for line in row_lines(shown, [vals[i] for i in index]):
            out.line(line)
    if left_out:
        named = ", ".join(n.replace("_", " ") for n in left_out)
        out.note(
            f"({named} left out to fit {width} columns; a wider window, --format csv or "
            "--format json shows every column)"
        )
