"""Looking after the ledger: rebuild the projections."""

from __future__ import annotations

import sys

import click

from cli.context import Session, pass_session


@click.command("rebuild")
@pass_session
def rebuild_command(session: Session) -> None:
    """Drop every projection and rebuild it from the event log.

    The answers afterwards are identical: projections are derived data.

    \b
    Example:
      sanctions rebuild
    """
    views = session.views
    total = session.ledger.recorder.max_notification_id() or 0
    if sys.stdout.isatty() and total:
        with click.progressbar(length=total, label="Rebuilding") as bar:
            done = [0]

            def step(position: int, _head: int) -> None:
                bar.update(position - done[0])
                done[0] = position

            count = views.rebuild(step)
    else:
        count = views.rebuild()
    click.echo(f"Rebuilt the projections from {count} events.")


COMMANDS = [rebuild_command]
