"""Looking after the ledger: rebuild the projections."""

from __future__ import annotations

import click

from cli.context import Session, pass_session
from cli.interrupts import both, pause, pause_at
from cli.progress import progress
from cli.types import HEAD
from ledger.integrity import KeptHead
from ledger.store import hide_password
from projections.integrity import verify


@click.command("init")
@pass_session
def init_command(session: Session) -> None:
    """Create an empty ledger at --db (an SQLite file, or the tables in a PostgreSQL database).

    Every other command needs an existing ledger, so that a mistyped --db is an error rather
    than an empty answer. On an existing ledger it says so and changes nothing. The folder of
    an SQLite file, or the PostgreSQL database, must exist.

    \b
    Example:
      sanctions --db sqlite:///sanctions.db init
    """
    where = hide_password(session.db)
    if session.init():
        click.echo(f"Created an empty ledger at {where}")
    else:
        events = session.ledger.recorder.max_notification_id() or 0
        click.echo(f"A ledger already exists at {where} ({events} events); nothing was changed")


@click.command("rebuild")
@pass_session
def rebuild_command(session: Session) -> None:
    """Rebuild every projection from the event log, and swap it in at the end.

    The answers afterwards are identical: projections are derived data. Queries go on
    answering from the old projections while it runs; interrupted before the swap, it
    leaves them as they were.

    \b
    Example:
      sanctions rebuild
    """
    views = session.views_as_they_are()
    with progress("Rebuilding the projections", "events") as step:
        count = views.rebuild(
            both(step, pause_at("rebuilding")), swapping=lambda: pause("swapping")
        )
    pause("rebuilt")
    click.echo(f"Rebuilt the projections from {count} events.")


COMMANDS = [init_command, rebuild_command]


@click.command("head")
@pass_session
def head_command(session: Session) -> None:
    """Print the ledger's head: its last position and that event's digest.

    Keep it (or publish it); 'sanctions verify --head' later tells whether the ledger still
    extends it.

    \b
    Example:
      sanctions head
    """
    position, digest = session.ledger.head()
    click.echo(f"{position} {digest}")


@click.command("verify")
@click.option(
    "--head",
    "kept",
    type=HEAD,
    default=None,
    metavar="[POSITION] DIGEST",
    help="A head kept earlier (from 'sanctions head'): check the ledger still extends it.",
)
@pass_session
def verify_command(session: Session, kept: KeptHead | None) -> None:
    """Check the ledger's integrity: hash chain, positions, record times, projections.

    \b
    Example:
      sanctions verify --head "42 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    """
    views = session.views
    with (
        progress("Checking the hash chain", "events") as checking,
        progress("Rebuilding the projections to compare", "events") as rebuilding,
    ):
        report = verify(views, kept, checking=checking, rebuilding=rebuilding)
    extends = f"; extends the kept head {kept.digest[:12]}" if kept is not None else ""
    click.echo(
        f"OK: {report.count} events, hash chain verified up to position "
        f"{report.head_position} ({report.head_digest[:12]}); projections match a fresh "
        f"rebuild{extends}"
    )


COMMANDS += [head_command, verify_command]
