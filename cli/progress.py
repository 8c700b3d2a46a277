"""Progress of a long phase: one line on standard error with a count and the time left.

Shown only on a terminal (standard error), never under ``--quiet``, and only once a phase
has run for ``SANCTIONS_PROGRESS_AFTER`` seconds (default 2): a quick command says
nothing. The line is cleared when the phase ends, so what follows reads as before.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from cli.terminal import size, stderr_terminal

AFTER_ENV = "SANCTIONS_PROGRESS_AFTER"
QUIET = "sanctions.quiet"


def quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(QUIET))


def quiet_option(f: Any) -> Any:
    """``--quiet``: print nothing but errors (no receipts, notes or progress)."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[QUIET] = True

    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=remember,
        help="Print nothing but errors.",
    )(f)


def _after() -> float:
    try:
        return float(os.environ.get(AFTER_ENV, "2"))
    except ValueError:
        return 2.0


def clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """``step(done, total)`` as a phase advances: ``Rebuilding the projections: 120,000 of
    1,000,000 events (12%), about 2:31 left``. ``total`` None: a count alone."""

    def __init__(self, label: str, unit: str, *, start: int = 0) -> None:
        self.label = label
        self.unit = unit
        self.start = start
        self.began = time.monotonic()
        self.first: int | None = None  # the count when the phase was first heard from
        self.after = _after()
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int | None = None, detail: str = "") -> None:
        now = time.monotonic()
        if self.first is None:  # the phase starts now (it may be made before it begins)
            self.first, self.began = done, now
        elapsed = now - self.began
        if elapsed < self.after or (now - self.last < 0.2 and done != total):
            return
        self.last = now
        text = self.text(done, total, elapsed) + (f"; {detail}" if detail else "")
        sys.stderr.write("\r\x1b[K" + text[: size()[0] - 1])
        sys.stderr.flush()
        self.shown = True

    def text(self, done: int, total: int | None, elapsed: float) -> str:
        done, total = done - self.start, (None if total is None else total - self.start)
        if total is None or total <= 0:
            return f"{self.label}: {done:,} {self.unit}"
        share = min(done / total, 1.0)
        rate = (done + self.start - (self.first or 0)) / elapsed if elapsed > 0 else 0
        left = (total - done) / rate if rate > 0 else None
        estimate = f", about {clock(left)} left" if left is not None else ""
        return f"{self.label}: {done:,} of {total:,} {self.unit} ({share:.0%}){estimate}"

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@contextmanager
def progress(label: str, unit: str, *, start: int = 0) -> Iterator[Progress | None]:
    """A ``Progress`` for one phase, or None where nothing is to be shown."""
    if quiet() or not stderr_terminal():
        yield None
        return
    shown = Progress(label, unit, start=start)
    try:
        yield shown
    finally:
        shown.end()
