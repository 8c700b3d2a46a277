"""``sanctions announce | ruling``: coordination announcements and court rulings."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Session, pass_session
from cli.progress import quiet_option
from cli.types import DATE, sources_option
from ledger.commands import Announce, RecordRuling

DAY = click.option("--date", required=True, type=DATE, help="Its date, YYYY-MM-DD.")


@click.command("announce")
@click.option("--title", required=True, metavar="TEXT", help="The announcement's title.")
@DAY
@click.option(
    "--authority",
    "authorities",
    multiple=True,
    metavar="CODE",
    help="The announcing authority first, then those it acts with (repeatable).",
)
@click.option(
    "--subject", "subjects", multiple=True, metavar="ID", help="A subject it concerns (repeatable)."
)
@sources_option
@quiet_option
@pass_session
def announce(session: Session, /, **options: Any) -> None:
    """Record a coordination announcement: the first authority acts with the others.

    \b
    Example:
      sanctions announce --title "Sanctions over the poisoning of Alexei Navalny" \\
        --date 2021-03-02 --authority US-OFAC --authority EU \\
        --subject igor-krasnov --subject alexander-bortnikov
    """
    session.recorded([session.ledger.run(Announce(**options))])


@click.command("ruling")
@click.argument("subject")
@click.option("--court", required=True, metavar="TEXT", help="The court.")
@DAY
@click.option("--outcome", required=True, metavar="TEXT", help="What it decided, briefly.")
@click.option("--summary", metavar="TEXT", help="A longer account.")
@click.option(
    "--annuls",
    is_flag=True,
    help="It annuls the designation named by --authority and --regime, from its date.",
)
@click.option("--authority", metavar="CODE", help="With --annuls: the designation's authority.")
@click.option("--regime", metavar="TEXT", help="With --annuls: the designation's regime.")
@sources_option
@quiet_option
@pass_session
def ruling(session: Session, /, subject: str, **options: Any) -> None:
    """Record a court ruling about SUBJECT; with --annuls it ends a designation from its date.

    \b
    Example:
      sanctions ruling alexei-navalny --court "Moscow City Court" --date 2021-02-20 \\
        --outcome "appeal dismissed, sentence upheld"
    """
    session.recorded([session.ledger.run(RecordRuling(subject=subject, **options))])
