"""``sanctions authority``: the built-in table of authorities, and registering others."""

from __future__ import annotations

from dataclasses import asdict

import click

from cli.context import Session, pass_session
from cli.progress import quiet_option
from cli.queries import format_option
from cli.render import render
from cli.types import sources_option
from ledger.commands import RegisterAuthority


@click.group("authority")
def authority() -> None:
    """The authorities that impose sanctions: the built-in codes and registered ones.

    \b
    Example:
      sanctions authority list
    """


@authority.command("list")
@format_option
@pass_session
def list_(session: Session, fmt: str) -> None:
    """List every known authority code with its full name.

    \b
    Example:
      sanctions authority list --format csv
    """
    render([asdict(a) for a in session.ledger.authorities()], fmt, ["code", "name", "builtin"])


@authority.command("add")
@click.argument("code")
@click.option("--name", required=True, metavar="TEXT", help="The authority's full name.")
@sources_option
@quiet_option
@pass_session
def add(session: Session, code: str, name: str, sources: tuple[str, ...]) -> None:
    """Register an authority beyond the built-in table (CODE: upper case, e.g. US-DOJ).

    \b
    Example:
      sanctions authority add UA --name "Ukraine (National Security and Defense Council)"
    """
    command = RegisterAuthority(code=code, name=name, sources=sources)
    session.recorded([session.ledger.run(command)])
