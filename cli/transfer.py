"""``sanctions import | export | log``: the ledger as JSON Lines, in and out, and the raw log."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

import click

from cli.context import Session, pass_session
from cli.interrupts import both, pause, pause_at
from cli.progress import Progress, progress, quiet, quiet_option
from cli.render import render
from cli.terminal import no_pager_option
from ledger import ImportSummary
from ledger.records import read_jsonl
from projections.serialize import dumps, gist, line_of

LOG_FORMAT = click.Choice(["table", "json", "jsonl"], case_sensitive=False)
LOG_COLUMNS = ["position", "type", "recorded_at", "recorded_by", "summary"]


def read_progress(file: IO[bytes], step: Progress | None) -> Callable[[int], None] | None:
    """Progress over a file being read (by bytes, when it has a size: not a pipe), with
    the count of events checked and written."""
    if step is None:
        return None
    try:
        total: int | None = os.fstat(file.fileno()).st_size if file.seekable() else None
    except (OSError, ValueError):
        total = None
    mega = 1_000_000

    def advance(count: int) -> None:
        if count % 500 == 0:
            try:
                done = file.tell()
            except (OSError, ValueError):
                done = 0
            if total:
                step(done // mega, max(total // mega, 1), f"{count:,} events checked")
            else:
                step(count)

    return advance


def describe(summary: ImportSummary) -> str:
    verb = "Restored" if summary.restore else "Imported"
    if not summary.count:
        return f"{verb} 0 events (the file holds none)"
    return f"{verb} {summary.count} events (positions {summary.first}..{summary.last})"


@click.command("import")
@click.argument("file", type=click.File("rb"))
@quiet_option
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
    with progress("Reading, checking and writing", "MB of the file") as step:
        advance = both(read_progress(file, step), pause_at("checked"))
        summary = session.ledger.import_events(read_jsonl(file), progress=advance)
    pause("committed")
    session.catch_up(views, pause_at("catching-up"))
    if not quiet():
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
    total = session.ledger.recorder.max_notification_id() or 0
    with (
        click.open_file(path, "w", encoding="utf-8", atomic=path != "-") as file,
        progress("Exporting", "events") as step,
    ):
        for event in session.ledger.read_log():
            file.write(dumps(line_of(event)) + "\n")
            count += 1
            if step is not None and count % 1000 == 0:
                step(count, total)
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
@no_pager_option
@pass_session
def log(session: Session, start: int, limit: int | None, fmt: str) -> None:
    """The raw ledger in order of record: the audit trail, from any position.

    json and jsonl print the same objects as export.

    \b
    Example:
      sanctions log --from 40 --limit 10
    """
    lines = (line_of(e) for e in session.ledger.read_log(start, limit))
    if fmt == "table":
        rows = ({**line, "summary": gist(line["data"])} for line in lines)
        render(rows, fmt, LOG_COLUMNS, empty="(no events)")
    else:
        render(lines, fmt)
