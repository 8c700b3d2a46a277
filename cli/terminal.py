"""Where an answer goes: a terminal (fitted, coloured, paged when long) or a pipe (plain).

Standard output decides: a terminal gets tables fitted to the window and, for answers
longer than the window, a pager; anything else gets plain lines. ``SANCTIONS_TERMINAL=1``
(or ``0``) forces either path, for tests and scripts. ``NO_COLOR`` turns colour off.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import unicodedata
from types import TracebackType
from typing import IO, Any

import click

TERMINAL_ENV = "SANCTIONS_TERMINAL"
DEFAULT_PAGER = "less -RFX"
PIPE_CLOSED = 141
"""Exit status when the reader of standard output went away (``| head``): 128 + SIGPIPE,
as for any program a closed pipe ends."""


def on_terminal() -> bool:
    """Whether standard output is a terminal (or ``SANCTIONS_TERMINAL`` says to act so)."""
    forced = os.environ.get(TERMINAL_ENV, "")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced by something without a fd
        return False


def colour() -> bool:
    """Colour only on a terminal, and never under ``NO_COLOR`` (no-color.org) or TERM=dumb."""
    return on_terminal() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def stderr_terminal() -> bool:
    """Progress goes to standard error: shown only when that is a terminal."""
    forced = os.environ.get(TERMINAL_ENV, "")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def size() -> tuple[int, int]:
    """The window's columns and lines (``COLUMNS``/``LINES`` first, as the shell sets them)."""
    columns, lines = shutil.get_terminal_size((80, 24))
    return max(columns, 20), max(lines, 5)


def bold(text: str) -> str:
    return f"\x1b[1m{text}\x1b[0m" if colour() else text


# --------------------------------------------------------------------------- text on screen

# Control characters from the data must not drive the terminal (an ESC in a name could
# rewrite the screen), and direction overrides could make one name read as another.
_SCREEN = {c: " " for c in range(32)} | {0x7F: " "} | {c: " " for c in range(0x80, 0xA0)}
_SCREEN |= {c: None for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def screen_text(text: str) -> str:
    """A value as it may be shown on a terminal: one line, no control characters."""
    return text.translate(_SCREEN)


def cells(text: str) -> int:
    """Columns the text takes on a terminal: wide (East Asian) characters take two."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def ellipsis() -> str:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return "…" if encoding.startswith("utf") else "..."


# --------------------------------------------------------------------------- the pager


def pager_command() -> list[str] | None:
    """The pager to use, or None: ``$SANCTIONS_PAGER``, else ``$PAGER``, else ``less -RFX``.

    Either variable set empty (or to ``cat``) turns paging off. A pager that cannot be found
    turns it off too: the answer is printed rather than lost.
    """
    for name in ("SANCTIONS_PAGER", "PAGER"):
        if name in os.environ:
            value = os.environ[name].strip()
            break
    else:
        value = DEFAULT_PAGER
    try:
        argv = shlex.split(value)
    except ValueError:
        return None
    if not argv or argv == ["cat"] or shutil.which(argv[0]) is None:
        return None
    return argv


class Answer:
    """The lines of one answer, to standard output or, once they overflow a terminal
    window, through the pager. Use it as a context manager; ``line`` writes one line.

    A reader that goes away ends the command quietly: the pager quit with ``q`` (exit 0),
    or a closed pipe such as ``| head -3`` (exit 141), never a traceback.
    """

    def __init__(self, *, page: bool = True) -> None:
        self.out: IO[str] = sys.stdout
        self.pager = pager_command() if page and on_terminal() else None
        self.room = size()[1] - 1  # the last line of the window is the shell's prompt
        self.pending: list[str] | None = [] if self.pager else None
        self.process: subprocess.Popen[str] | None = None
        self.lines = 0
        self.flushed = 0.0
        self.notes: list[str] = []

    def __enter__(self) -> Answer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self._stop_pager()  # Ctrl-C or an error: the pager keeps the terminal until it ends

    def line(self, text: str = "") -> None:
        self.text(text + "\n")

    def text(self, text: str) -> None:
        """Text as it is, newlines included."""
        if self.pending is not None:
            self.pending.append(text)
            self.lines += text.count("\n")
            if self.lines > self.room:
                self._start_pager()
            return
        try:
            self.out.write(text)
            now = time.monotonic()
            if now - self.flushed > 0.1:  # a pipe's reader gets rows as they come, not per 8 kB
                self.out.flush()
                self.flushed = now
        except BrokenPipeError:
            self._reader_gone()

    def note(self, text: str) -> None:
        """A line for standard error once the answer is over (after the pager, if any)."""
        self.notes.append(text)

    def finish(self) -> None:
        """All said: flush what waited for the pager, or let the pager run to its end."""
        if self.pending is not None:
            texts, self.pending = self.pending, None
            for text in texts:
                self.text(text)
        try:
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone()
        self._stop_pager()
        for note in self.notes:
            click.echo(note, err=True)

    def _start_pager(self) -> None:
        assert self.pager is not None and self.pending is not None
        env = dict(os.environ)
        env.setdefault("LESS", "FRX")  # as git does: colour through, quit when it all fits
        env.setdefault("LV", "-c")
        self.out.flush()
        try:
            self.process = subprocess.Popen(
                self.pager, stdin=subprocess.PIPE, text=True, encoding="utf-8", env=env
            )
        except OSError:  # it could not start: print the answer instead
            self.process = None
        else:
            assert self.process.stdin is not None
            self.out = self.process.stdin
        texts, self.pending = self.pending, None
        for text in texts:
            self.text(text)

    def _stop_pager(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        self.out = sys.stdout
        try:
            assert process.stdin is not None
            process.stdin.close()
        except BrokenPipeError:
            pass
        while True:
            try:
                process.wait()
                return
            except KeyboardInterrupt:  # the pager has the terminal: wait on
                continue

    def _reader_gone(self) -> None:
        if self.process is not None:
            self._stop_pager()
            raise click.exceptions.Exit(0)  # the pager was quit: the reader has seen enough
        # Nothing more reaches the reader; at exit Python's flush must not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        finally:
            os.close(devnull)
        raise click.exceptions.Exit(PIPE_CLOSED)


NO_PAGER = "sanctions.no_pager"


def no_pager_option(f: Any) -> Any:
    """``--no-pager``: print a long answer straight to the terminal."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[NO_PAGER] = True

    return click.option(
        "--no-pager",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Print a long answer straight to the terminal, not through the pager "
        "($SANCTIONS_PAGER, $PAGER, or less -RFX).",
    )(f)
