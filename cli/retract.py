"""``sanctions retract``: mark an earlier event as recorded in error; nothing is deleted."""

from __future__ import annotations

import click

from cli.context import Session, pass_session
from cli.progress import quiet_option
from cli.types import sources_option
from ledger.commands import Retract


@click.command("retract")
@click.argument("position", type=int)
@click.option("--reason", required=True, metavar="TEXT", help="Why it was recorded in error.")
@sources_option
@quiet_option
@pass_session
def retract(session: Session, position: int, reason: str, sources: tuple[str, ...]) -> None:
    """Retract the event at ledger POSITION: it stays in the store, without effect from now on.

    To undo a retraction, record the retracted event again.

    \b
    Example:
      sanctions retract 42 --reason "wrong regime; recorded again at position 43"
    """
    command = Retract(position=position, reason=reason, sources=sources)
    if not session.ledger.read_only:  # (a read-only ledger refuses the command itself)
        session.views  # noqa: B018 - open first: a registration's references are looked up there
    session.recorded([session.ledger.run(command)])
