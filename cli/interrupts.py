"""Ctrl-C and SIGTERM: one truthful last line, read back from the database.

``install`` makes both signals raise ``Interrupt`` (a KeyboardInterrupt, so that psycopg
cancels a running query and every transaction rolls back on its way out); later signals are
held off, so that the rollback and the reading back finish. ``interrupted`` then says what
is true: nothing was written, or which positions were committed (a commit may complete
between the signal and its handling, so the stored rows decide), or, for ``rebuild``,
whether the projections were rebuilt.
"""

from __future__ import annotations

import atexit
import os
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from cli.context import Session

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupt(KeyboardInterrupt):
    """A signal that ends the command; ``signum`` gives its exit status, 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Interrupted(click.ClickException):
    """The command's last line after Ctrl-C: ``Error: interrupted...``, exit 128 + SIGINT."""

    exit_code = 128 + signal.SIGINT


class Terminated(Interrupted):
    """The same after SIGTERM: exit 128 + SIGTERM."""

    exit_code = 128 + signal.SIGTERM


def install() -> None:
    """For the process's life: the first SIGINT or SIGTERM raises ``Interrupt``; later ones are
    ignored, so that a second Ctrl-C cannot cut short the rollback or the truthful line."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        hold()
        raise Interrupt(signum)

    for signum in SIGNALS:
        # An ignored signal stays ignored: a shell starts background jobs ignoring SIGINT.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, handle)
            _installed.add(signum)
    # Python restores the default action before it exits, which would let a late Ctrl-C kill
    # the process after its last line was said; ignored at exit, it cannot.
    atexit.register(_ignore_at_exit)


_installed: set[int] = set()


def hold() -> None:
    """Ignore the signals ``install`` handles from now on: the command has ended (its last line
    is said, or being worked out) and the process only closes its connections and exits."""
    for signum in _installed:
        # A handler that does nothing, not SIG_IGN: a signal already pending (Ctrl-C and
        # SIGTERM at once) would otherwise be reported as "ignored due to race condition".
        signal.signal(signum, _ignore)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    pass


def _ignore_at_exit() -> None:
    for signum in _installed:
        signal.signal(signum, signal.SIG_IGN)


def before_start(e: KeyboardInterrupt) -> int:
    """An interrupt while the program loads: nothing can have been written; the exit status."""
    signum = getattr(e, "signum", signal.SIGINT)
    click.echo("Error: interrupted; nothing was written", err=True)
    return 128 + signum


def interrupted(session: Session | None, signum: int, rebuilding: bool) -> Interrupted:
    """What an interrupt left behind, as the command's error."""
    try:
        message = _truth(session, rebuilding)
    except Exception as e:  # the database failed too: say so, guess nothing
        message = (
            "interrupted; could not read the ledger back to tell what was written "
            f"({type(e).__name__}: {' '.join(str(e).split())}); 'sanctions head' and "
            "'sanctions verify' tell"
        )
    return Terminated(message) if signum == signal.SIGTERM else Interrupted(message)


def _truth(session: Session | None, rebuilding: bool) -> str:
    # Only what the command opened: opening the ledger now would read it, not its last write.
    ledger = session.__dict__.get("ledger") if session is not None else None
    committed = ledger.committed_by_last_write() if ledger is not None else None
    if committed is not None:
        first, last = committed
        return (
            f"interrupted after positions {first}..{last} were committed; "
            "the projections catch up on the next command"
        )
    if not rebuilding:
        return "interrupted; nothing was written"
    views = session.__dict__.get("views") if session is not None else None
    position = views.rebuilt_up_to() if views is not None else None
    if position is None:
        return (
            "interrupted; no event was written; the projections were not rebuilt and "
            "catch up on the next command"
        )
    return (
        f"interrupted; no event was written; the projections were rebuilt up to position "
        f"{position} and catch up on the next command"
    )


# --------------------------------------------------------------------------- test hook

PAUSE_ENV = "SANCTIONS_TEST_PAUSE"
"""For the interrupt tests: ``PHASE`` or ``PHASE:COUNT`` (see ``pause_at``)."""


def pause_at(phase: str) -> Callable[..., None] | None:
    """A progress callback that, when ``SANCTIONS_TEST_PAUSE`` names this phase, prints
    ``paused at PHASE N`` on standard error the first time N (its first argument) reaches
    COUNT, and waits there for a signal; None otherwise, so the command pays nothing."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return None
    name, _, count = wanted.partition(":")
    if name != phase:
        return None
    pending = [int(count or 0)]

    def pause(done: int = 0, *_: Any) -> None:
        if pending and done >= pending[0]:
            pending.clear()
            click.echo(f"paused at {phase} {done}", err=True)
            time.sleep(30)  # a signal ends it; without one the test fails on its time limit

    return pause


def pause(phase: str) -> None:
    """The test hook at one point of a command (see ``pause_at``)."""
    hook = pause_at(phase)
    if hook is not None:
        hook()


def both(*callbacks: Callable[..., None] | None) -> Callable[..., None] | None:
    """One progress callback calling each given one (None when none is given)."""
    given = [c for c in callbacks if c is not None]
    if len(given) <= 1:
        return given[0] if given else None

    def call(*args: Any) -> None:
        for c in given:
            c(*args)

    return call
