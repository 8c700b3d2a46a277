"""What every command gets: the ledger and its read side, opened lazily from ``--db``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import click

# Loaded when a command first opens the ledger: not for --help, nor for a malformed option.
if TYPE_CHECKING:
    from ledger import Ledger, Receipt
    from projections import Views
    from projections.catchup import ProgressFn


class Session:
    def __init__(self, db: str, by: str | None) -> None:
        self.db = db
        self.by = by

    @cached_property
    def ledger(self) -> Ledger:
        from ledger import Ledger

        return Ledger(self.db, user=self.by)

    @cached_property
    def views(self) -> Views:
        """The read side, caught up with the log before any answer."""
        from projections import Views

        views = Views(self.ledger)
        self.catch_up(views)
        return views

    def views_as_they_are(self) -> Views:
        """The read side without catching it up first: for ``rebuild``, which replaces it
        (catching up a ledger whose projections are far behind would build them twice)."""
        from projections import Views

        if "views" not in self.__dict__:
            self.__dict__["views"] = Views(self.ledger)
        return self.__dict__["views"]  # type: ignore[no-any-return]

    def catch_up(self, views: Views, pause: ProgressFn | None = None) -> int:
        """Bring the projections up to date, with progress on a terminal when it is long."""
        from cli.interrupts import both
        from cli.progress import progress, quiet
        from cli.terminal import stderr_terminal

        if not stderr_terminal() or quiet():
            return views.catch_up(pause)
        with progress("Catching up the projections", "events", start=views.position()) as step:
            return views.catch_up(both(step, pause))

    def init(self) -> bool:
        """Create an empty ledger, with its projections, unless there is one; True if created."""
        from ledger import Ledger
        from projections import Views

        ledger = self.__dict__["ledger"] = Ledger.init(self.db, user=self.by)
        if ledger.created:
            # The projection tables from the start: a reader of the new ledger needs them.
            Views(ledger).close()
        return ledger.created

    def recorded(self, receipts: Sequence[Receipt]) -> None:
        """After an append: bring the projections up to date, then say what was recorded.

        What was recorded is said even when the projections cannot follow (a role that may
        append but not write them): the error that follows must not read as "nothing written".
        """
        from cli.progress import quiet

        try:
            self.catch_up(self.views)
        finally:
            if not quiet():
                for r in receipts:
                    click.echo(f"Recorded at position {r.position}: {r.summary}")

    def close(self) -> None:
        if "views" in self.__dict__:
            self.views.close()
        if "ledger" in self.__dict__:
            self.ledger.close()


pass_session = click.make_pass_decorator(Session)
