"""``sanctions import | export | log``: the ledger as JSON Lines, in and out, and the raw log."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

import click

from cli.context import Session, pass_session
from cli.interrupts import both, pause, pause_at
from cli.render import render
from ledger import ImportSummary
from ledger.records import read_jsonl
from projections.serialize import dumps, gist, line_of

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

LOG_FORMAT = click.Choice(["table", "json", "jsonl"], case_sensitive=False)
LOG_COLUMNS = ["position", "type", "recorded_at", "recorded_by", "summary"]


@contextmanager
def progress_bar(file: IO[bytes]) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over a file's lines, when standard output is a terminal and the file
    can be counted first (not a pipe)."""
    if not (sys.stdout.isatty() and file.seekable()):
        yield None
        return
    total = sum(1 for _ in file)
    file.seek(0)
    bar: ProgressBar[int]
    with click.progressbar(length=total, label="Checking events") as bar:

        def advance(count: int) -> None:
            if count % 1000 == 0:
                bar.update(count - bar.pos)

        yield advance


def describe(summary: ImportSummary) -> str:
    verb = "Restored" if summary.restore else "Imported"
    if not summary.count:
        return f"{verb} 0 events (the file holds none)"
    return f"{verb} {summary.count} events (positions {summary.first}..{summary.last})"


@click.command("import")
@click.argument("file", type=click.File("rb"))
@pass_session
def import_(session: Session, file: IO[bytes]) -> None:
    """Append the events in a JSON Lines FILE (- for standard input), all or nothing.

    Each line is {"type": ..., "data": {...}}; the README lists the types and their fields.
    The whole file is checked before anything is written. Lines carrying "position",
    "recorded_at" and "recorded_by" (an export) are a restore into an empty ledger.

    \b
    Example:
      sanctions --db sqlite:///example.db import examples/navalny.jsonl
    """
    views = session.views  # caught up before the write: afterwards only the import is left
    with progress_bar(file) as advance:
        progress = both(advance, pause_at("checked"))
        summary = session.ledger.import_events(read_jsonl(file), progress=progress)
    pause("committed")
    views.catch_up(pause_at("catching-up"))
    click.echo(describe(summary))


@click.command("export")
@click.argument("path", metavar="[FILE]", type=click.Path(dir_okay=False), default="-")
@pass_session
def export(session: Session, path: str) -> None:
    """Write the whole ledger as JSON Lines to FILE (- or none: standard output), in order.

    Importing the file into an empty ledger restores it exactly: positions, record times,
    recorders and digests.

    \b
    Example:
      sanctions export backup.jsonl
    """
    count = 0
    with click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as file:
        for event in session.ledger.read_log():
            file.write(dumps(line_of(event)) + "\n")
            count += 1
    if path != "-":
        click.echo(f"Exported {count} events to {path}", err=True)


@click.command("log")
@click.option(
    "--from",
    "start",
    type=click.IntRange(min=1),
    default=1,
    metavar="POSITION",
    help="The first position to show.",
)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N events.")
@click.option("--format", "fmt", type=LOG_FORMAT, default="table", show_default=True)
@pass_session
def log(session: Session, start: int, limit: int | None, fmt: str) -> None:
    """The raw ledger in order of record: the audit trail, from any position.

    json and jsonl print the same objects as export.

    \b
    Example:
      sanctions log --from 40 --limit 10
    """
    lines = [line_of(e) for e in session.ledger.read_log(start, limit)]
    if fmt == "table":
        rows = [{**line, "summary": gist(line["data"])} for line in lines]
        render(rows, fmt, LOG_COLUMNS, empty="(no events)")
    else:
        render(lines, fmt)
