"""``sanctions link`` / ``unlink``: two subjects recorded as one party (or no longer), and
``sanctions links suggest``: candidate pairs to review, best first, writing nothing."""

from __future__ import annotations

import click

from cli.context import Session, pass_session
from cli.types import sources_option
from ledger.commands import Link, Unlink


@click.command("link")
@click.argument("subjects", nargs=2, metavar="A B")
@click.option("--reason", required=True, metavar="TEXT", help="Why they are one party.")
@click.option(
    "--despite",
    metavar="TEXT",
    help="Why, although their birth dates have none in common (kept with the link).",
)
@sources_option
@pass_session
def link(
    session: Session,
    subjects: tuple[str, str],
    reason: str,
    despite: str | None,
    sources: tuple[str, ...],
) -> None:
    """Record that subjects A and B are one party: every query then answers for both.

    A link has no effective date: it holds from its record time on, so an answer as known
    before it treats A and B apart. Links are transitive (a party is a connected group).

    \b
    Example:
      sanctions link un-qdi-001 ofac-12345 --reason "same name and birth date on both lists"
    """
    command = Link(subjects=subjects, reason=reason, despite=despite, sources=sources)
    session.recorded([session.ledger.run(command)])


@click.command("unlink")
@click.argument("subjects", nargs=2, metavar="A B")
@click.option("--reason", required=True, metavar="TEXT", help="Why they are not one party.")
@sources_option
@pass_session
def unlink(
    session: Session, subjects: tuple[str, str], reason: str, sources: tuple[str, ...]
) -> None:
    """Record that linked subjects A and B are not (or no longer believed to be) one party.

    Answers change from this event's record time on; as known before, the link holds.

    \b
    Example:
      sanctions unlink un-qdi-001 ofac-12345 --reason "another man of the same name"
    """
    command = Unlink(subjects=subjects, reason=reason, sources=sources)
    session.recorded([session.ledger.run(command)])


COMMANDS: list[click.Command] = [link, unlink]
