"""``sanctions subject``: register, amend and list the people, organizations, vessels and
aircraft that can be sanctioned."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Session, pass_session
from cli.parties import warn_if_known
from cli.progress import quiet, quiet_option
from cli.queries import format_option, known_at_option
from cli.render import render
from cli.types import DATE, KIND, sources_option, stacked
from ledger.commands import AmendSubject, RegisterSubject
from ledger.vocabulary import slugify

SUBJECT_COLUMNS = [
    "subject_id",
    "name",
    "kind",
    "aliases",
    "birth_date",
    "nationality",
    "position",
]

attributes = stacked(
    click.option("--birth-date", type=DATE, help="Date of birth, YYYY-MM-DD."),
    click.option(
        "--alt-birth-date",
        "alt_birth_dates",
        type=DATE,
        multiple=True,
        help="Another date of birth the sources give (repeatable; on amend: all of them).",
    ),
    click.option("--nationality", metavar="TEXT", help="Nationality (country)."),
    click.option("--position", metavar="TEXT", help="Office or function held."),
    sources_option,
)
"""The optional attributes shared by ``subject add`` and ``subject amend``."""


@click.group("subject")
def subject() -> None:
    """Register, amend and list subjects.

    \b
    Example:
      sanctions subject add "Igor Krasnov" --position "Prosecutor General"
    """


@subject.command("add")
@click.argument("name")
@click.option("--id", "subject_id", metavar="ID", help="Stable id (default: a slug of NAME).")
@click.option("--kind", type=KIND, default="person", show_default=True, help="What it is.")
@click.option(
    "--alias", "aliases", multiple=True, metavar="NAME", help="Another name (repeatable)."
)
@attributes
@quiet_option
@pass_session
def add(session: Session, /, name: str, **options: Any) -> None:
    """Register a subject under a stable id (default: a slug of the name).

    When a subject of the same kind with a matching name and a birth date in common is
    registered already, a warning names it and suggests 'sanctions link' (the subject is
    registered all the same; --quiet leaves the warning out).

    \b
    Example:
      sanctions subject add "Igor Krasnov" --nationality Russia \\
        --position "Prosecutor General of the Russian Federation"
    """
    session.recorded([session.ledger.run(RegisterSubject(name=name, **options))])
    if not quiet():
        warn_if_known(session, options["subject_id"] or slugify(name))


@subject.command("amend")
@click.argument("subject_id", metavar="ID")
@click.option("--name", metavar="NAME", help="A new main name.")
@click.option("--kind", type=KIND, help="A new kind.")
@click.option(
    "--alias", "add_aliases", multiple=True, metavar="NAME", help="Add an alias (repeatable)."
)
@click.option(
    "--remove-alias",
    "remove_aliases",
    multiple=True,
    metavar="NAME",
    help="Remove an alias (repeatable).",
)
@attributes
@quiet_option
@pass_session
def amend(session: Session, /, subject_id: str, **options: Any) -> None:
    """Change a subject's name, kind, aliases or attributes.

    \b
    Example:
      sanctions subject amend igor-krasnov --alias "Igor Viktorovich Krasnov"
    """
    # None: the other birth dates unchanged (given, the option names all of them).
    options["alt_birth_dates"] = options["alt_birth_dates"] or None
    session.recorded([session.ledger.run(AmendSubject(subject_id=subject_id, **options))])


@subject.command("list")
@known_at_option
@format_option
@pass_session
def list_(session: Session, known_at: str | None, fmt: str) -> None:
    """List every registered subject with its current name, aliases and attributes.

    \b
    Example:
      sanctions subject list --format csv
    """
    rows = (r.as_dict() for r in session.views.stream_subjects(known_at=known_at))
    render(rows, fmt, SUBJECT_COLUMNS, empty="No subject registered.")
