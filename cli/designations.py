"""``sanctions designate | amend | delist``: the lifecycle of one designation, named by its
subject, authority and regime."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Session, pass_session
from cli.progress import quiet_option
from cli.types import DATE, MEASURE, Decorator, sources_option, stacked
from ledger.commands import AmendDesignation, Delist, Designate

AUTHORITY = click.option(
    "--authority", required=True, metavar="CODE", help="Who imposes it: EU, UK, US-OFAC, ..."
)
REGIME = click.option(
    "--regime", required=True, metavar="TEXT", help='The programme, e.g. "EO 13661".'
)

designation_key = stacked(
    click.argument("subject"),
    AUTHORITY,
    REGIME,
    click.option(
        "--effective", required=True, type=DATE, help="When it takes legal effect, YYYY-MM-DD."
    ),
)
"""SUBJECT --authority --regime --effective: which designation, from which day."""


def measures_option(name: str, help: str) -> Decorator:
    dest = name.removeprefix("--").replace("-", "_") + "s"
    return click.option(name, dest, multiple=True, type=MEASURE, help=f"{help} (repeatable).")


UNTIL = click.option("--until", type=DATE, help="Last day in force, if it has an end date.")
LEGAL_ACT = click.option("--legal-act", metavar="TEXT", help="The instrument that decided it.")
REASON = click.option("--reason", metavar="TEXT", help="The stated grounds.")


LISTED_AFTER = click.option(
    "--listed-after",
    type=DATE,
    help="The listing date is not known: certain from --effective, possibly listed since "
    "the day after this one (e.g. the previous edition of the list without it).",
)
START_UNKNOWN = click.option(
    "--start-unknown",
    is_flag=True,
    help="The listing date is not known and nothing bounds it: certain from --effective, "
    "possibly listed on any day before.",
)


@click.command("designate")
@designation_key
@measures_option("--measure", "What the designation imposes")
@stacked(UNTIL, LEGAL_ACT, REASON, LISTED_AFTER, START_UNKNOWN, sources_option)
@quiet_option
@pass_session
def designate(session: Session, /, subject: str, **options: Any) -> None:
    """List SUBJECT by an authority under a regime from an effective date.

    When the source gives no listing date (a list seen on 2021-07-07, not on 2021-06-01),
    give the date it was first seen as --effective and the last date it was not as
    --listed-after: queries answer "possibly listed" in between.

    \b
    Example:
      sanctions designate igor-krasnov --authority EU \\
        --regime "EU Global Human Rights Sanctions Regime" --effective 2021-03-02 \\
        --measure asset-freeze --measure travel-ban --measure funds-prohibition \\
        --legal-act "Council Implementing Regulation (EU) 2021/371"
      sanctions designate igor-krasnov --authority US-OFAC --regime "EO 13661" \\
        --effective 2021-07-07 --listed-after 2021-06-01 --measure asset-freeze
    """
    session.recorded([session.ledger.run(Designate(subject=subject, **options))])


@click.command("amend")
@designation_key
@measures_option("--add-measure", "A measure to add")
@measures_option("--remove-measure", "A measure to lift")
@stacked(UNTIL, LEGAL_ACT, REASON, sources_option)
@quiet_option
@pass_session
def amend(session: Session, /, subject: str, **options: Any) -> None:
    """Change a designation in force on the effective date: measures, end date, legal act.

    \b
    Example:
      sanctions amend igor-krasnov --authority EU \\
        --regime "EU Global Human Rights Sanctions Regime" --effective 2022-03-01 \\
        --remove-measure travel-ban --until 2022-12-31
    """
    session.recorded([session.ledger.run(AmendDesignation(subject=subject, **options))])


@click.command("delist")
@designation_key
@stacked(REASON, LEGAL_ACT, sources_option)
@quiet_option
@pass_session
def delist(session: Session, /, subject: str, **options: Any) -> None:
    """End a designation from the effective date (its last day in force is the day before).

    \b
    Example:
      sanctions delist igor-krasnov --authority US-OFAC --regime "EO 13661" \\
        --effective 2024-01-01 --reason "removed from the SDN list"
    """
    session.recorded([session.ledger.run(Delist(subject=subject, **options))])
