"""Rendering of query results: table (rich), json, csv, jsonl. Shared by every command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from projections.serialize import cell, csv_text, dumps


def render(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    empty: str = "(nothing)",
) -> None:
    """Print rows as a table, a JSON array, CSV with a header, or JSON lines."""
    fmt = fmt.lower()
    cols = list(columns) if columns else (list(rows[0]) if rows else [])
    if fmt == "json":
        click.echo(dumps(list(rows), indent=2))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(dumps(row))
    elif fmt == "csv":
        click.echo(csv_text(rows, cols), nl=False)
    else:
        if title:
            click.echo(title)
        if not rows:
            click.echo(empty)
            return
        from rich.console import Console  # here: only a table needs it (start-up time)
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", show_lines=False)
        for c in cols:
            table.add_column(c.replace("_", " "), overflow="fold")
        for row in rows:
            table.add_row(*(cell(row.get(c)) for c in cols))
        console = Console(width=max(100, _width()), soft_wrap=False)
        with console.capture() as capture:
            console.print(table)
        click.echo(capture.get().rstrip("\n"))


def render_object(obj: dict[str, Any], fmt: str) -> None:
    click.echo(dumps(obj, indent=2))


def _width() -> int:
    try:
        import shutil

        return shutil.get_terminal_size((140, 40)).columns
    except OSError:  # pragma: no cover
        return 140
