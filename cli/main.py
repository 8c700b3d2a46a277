"""The ``sanctions`` command: the root group, and the one place errors become exit codes.

Start-up time: a command's module, and the libraries it needs (the database drivers,
SQLAlchemy, the web framework, the matcher, rich), load only when that command runs;
``sanctions --help`` lists the commands from ``cli.commands.COMMANDS``.
"""

from __future__ import annotations

import signal
import sys
from importlib import import_module
from typing import Any

import click

from cli import interrupts
from cli.commands import COMMANDS
from cli.context import Session
from cli.terminal import no_pager_option
from ledger import DEFAULT_URL, __version__
from ledger.errors import LedgerError

# The database failures said in one line, by module: a library that is not loaded cannot
# have raised one, so none is imported to be caught (psycopg alone takes ~100 ms).
DATABASE_ERRORS = (
    ("sqlite3", "DatabaseError"),
    ("eventsourcing.persistence", "PersistenceError"),  # its OperationalError too
    ("sqlalchemy.exc", "SQLAlchemyError"),
    ("psycopg", "Error"),
)


def database_errors() -> tuple[type[BaseException], ...]:
    loaded = [(sys.modules.get(module), name) for module, name in DATABASE_ERRORS]
    return tuple(getattr(module, name) for module, name in loaded if module is not None)


class LedgerGroup(click.Group):
    """Runs a sub-command; a refusal from the ledger becomes ``Error: ...`` and exit 1.

    Sub-commands load on first use (click's "lazily loading subcommands" pattern).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            interrupts.pause("loading")  # the test hook: a signal while the libraries load
            module, _, attribute = COMMANDS[cmd_name][0].partition(":")
            command = getattr(import_module(module), attribute)
            if not isinstance(command, click.Command):  # pragma: no cover - a wrong table row
                raise TypeError(f"{COMMANDS[cmd_name][0]} is not a click command")
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their summaries, from the table: no command module is loaded."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            summary = COMMANDS[name][1] if name in COMMANDS else None
            shown = click.Command(name, help=summary) if summary else self.get_command(ctx, name)
            if shown is not None and not shown.hidden:
                rows.append((name, shown.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(
        self, ctx: click.Context, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        """Command names from the table (completing one loads nothing), then the options."""
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=click.Command(name, help=summary).get_short_help_str())
            for name, (_, summary) in sorted(COMMANDS.items())
            if name.startswith(incomplete)
        ]
        return items + click.Command.shell_complete(self, ctx, incomplete)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as e:
            # click suggests from the commands loaded so far: suggest from all of them.
            raise click.exceptions.NoSuchCommand(
                e.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM through cli.interrupts
            signum = getattr(e, "signum", signal.SIGINT)
            rebuilding = ctx.invoked_subcommand == "rebuild"
            raise interrupts.interrupted(ctx.obj, signum, rebuilding) from None
        except LedgerError as e:
            raise click.ClickException(str(e)) from None
        except Exception as e:
            if not isinstance(e, database_errors()):
                raise
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


def main() -> None:
    interrupts.install()  # SIGTERM too ends a command with the truthful line, not a silent kill
    cli(prog_name="sanctions")
