"""The ``sanctions`` command: the root group, and the one place errors become exit codes."""

from __future__ import annotations

import signal
from sqlite3 import DatabaseError
from typing import Any

import click
import psycopg
from eventsourcing.persistence import OperationalError, PersistenceError
from sqlalchemy.exc import SQLAlchemyError

from cli import interrupts
from cli.context import Session
from cli.render import no_pager_option
from ledger import DEFAULT_URL, LedgerError, __version__


class LedgerGroup(click.Group):
    """Runs a sub-command; a refusal from the ledger becomes ``Error: ...`` and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM through cli.interrupts
            signum = getattr(e, "signum", signal.SIGINT)
            rebuilding = ctx.invoked_subcommand == "rebuild"
            raise interrupts.interrupted(ctx.obj, signum, rebuilding) from None
        except LedgerError as e:
            raise click.ClickException(str(e)) from None
        except (
            PersistenceError,
            OperationalError,
            SQLAlchemyError,
            DatabaseError,
            psycopg.Error,
        ) as e:
            # The database itself failed (unreachable, locked for too long, out of space).
            # One line: the driver's message, without SQLAlchemy's statement and links.
            lines = str(getattr(e, "orig", None) or e).strip().splitlines()
            raise click.ClickException(
                f"database error: {lines[0] if lines else type(e).__name__}"
            ) from None
        finally:
            # Done, or its error said: a signal now must not turn it into "Aborted!".
            interrupts.hold()

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt as e:  # while parsing the arguments: nothing was written yet
            raise interrupts.interrupted(None, getattr(e, "signum", signal.SIGINT), False) from None


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="SANCTIONS_DB",
    default=DEFAULT_URL,
    show_default=True,
    metavar="URL",
    help="The ledger: sqlite:///FILE or postgresql://USER@HOST:PORT/DB (env SANCTIONS_DB).",
)
@click.option(
    "--by",
    envvar="SANCTIONS_USER",
    metavar="NAME",
    help="Who records (env SANCTIONS_USER; default: the login name).",
)
@click.version_option(__version__, prog_name="sanctions")
@no_pager_option
@click.pass_context
def cli(ctx: click.Context, db: str, by: str | None) -> None:
    """An event-sourced, bitemporal ledger of economic sanctions.

    Every designation, amendment, delisting, coordination announcement and court ruling is an
    immutable event; queries answer for any date (--at) as known at any moment (--known-at).

    Example: sanctions --db sqlite:///sanctions.db list --authority EU --at 2021-03-03
    """
    session = Session(db, by)
    ctx.obj = session
    ctx.call_on_close(session.close)


def _register() -> None:
    from cli import commands

    for command in commands.ALL:
        cli.add_command(command)


_register()


def main() -> None:
    interrupts.install()  # SIGTERM too ends a command with the truthful line, not a silent kill
    cli(prog_name="sanctions")
