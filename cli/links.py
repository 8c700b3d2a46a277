"""``sanctions link`` / ``unlink``: two subjects recorded as one party (or no longer), and
``sanctions links suggest``: candidate pairs to review, best first, writing nothing."""

from __future__ import annotations

import click

from cli.context import Session, pass_session
from cli.queries import format_option, known_at_option
from cli.render import render
from cli.types import sources_option
from ledger.commands import Link, Unlink
from projections.suggest import DEFAULT_MIN_SCORE, as_rows, suggest


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


@click.group("links")
def links() -> None:
    """Links between subjects of several lists: suggestions to review.

    \b
    Example:
      sanctions links suggest --authority UN --with US-OFAC
    """


@links.command("suggest")
@click.option("--authority", "-a", default=None, help="One side: subjects this one designates.")
@click.option("--with", "with_", default=None, help="The other side: subjects it designates.")
@click.option(
    "--min-score",
    type=float,
    default=None,
    help=f"The lowest score listed (default {DEFAULT_MIN_SCORE}).",
)
@known_at_option
@format_option
@pass_session
def suggest_command(
    session: Session,
    authority: str | None,
    with_: str | None,
    min_score: float | None,
    known_at: str | None,
    fmt: str,
) -> None:
    """Pairs of subjects that may be one party, best first, with the evidence; writes nothing.

    Pairs already one party, unlinked by someone, or of different kinds are left out. The
    score is the names' (as 'search' scores them), raised by a birth date in common and
    lowered when birth dates or nationalities differ. 'sanctions import' of the accepted
    pairs as 'linked' lines records them all or nothing.

    \b
    Example:
      sanctions links suggest --authority UN --with US-OFAC --format csv > review.csv
    """
    found = suggest(
        session.views,
        authority=authority,
        with_=with_,
        min_score=DEFAULT_MIN_SCORE if min_score is None else min_score,
        known_at=known_at,
    )
    if fmt == "json":
        render([s.as_dict() for s in found], fmt)
        return
    render(as_rows(found), fmt, SUGGESTION_COLUMNS, empty="No suggestion.")


SUGGESTION_COLUMNS = [
    "score",
    "subject_a",
    "name_a",
    "authorities_a",
    "subject_b",
    "name_b",
    "authorities_b",
    "name_score",
    "birth_date",
    "nationality",
    "kind",
]

COMMANDS: list[click.Command] = [link, unlink, links]
